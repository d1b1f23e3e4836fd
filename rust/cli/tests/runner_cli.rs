//! `metis-deploy up / runs / replay / destroy` with a stand-in ansible-playbook that writes the
//! events callback's lines (the lab suite tests/runner/run.sh runs the real playbooks).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::*;

/// A stand-in for ansible-playbook: events for the playbook given after `-i INV`, the step in
/// FAIL_STEP fails on 198.51.100.12, the step in SLEEP_STEP sleeps.
const FAKE: &str = r#"#!/bin/sh
pb=$(basename "$3" .yml)
echo "PLAY [$pb] $* (pipelining ${ANSIBLE_PIPELINING-unset})"
ev() { echo "$1" >> "$METIS_EVENTS_FILE"; }
ev "{\"event\":\"playbook_start\",\"playbook\":\"$pb.yml\"}"
ev '{"event":"task_start","task":"Do it"}'
for h in 198.51.100.11 198.51.100.12 198.51.100.13; do
  if [ "$pb" = "$FAIL_STEP" ] && [ $h = 198.51.100.12 ]; then
    ev "{\"event\":\"host_result\",\"host\":\"$h\",\"task\":\"Check ports\",\"status\":\"failed\",\"msg\":\"$h: port 8701/tcp is taken\"}"
  else
    ev "{\"event\":\"host_result\",\"host\":\"$h\",\"task\":\"Do it\",\"status\":\"changed\"}"
  fi
done
[ "$pb" = "$SLEEP_STEP" ] && sleep 20
ev '{"event":"stats","hosts":{"198.51.100.11":{"ok":1,"changed":1}}}'
[ "$pb" = "$FAIL_STEP" ] && exit 2
exit 0
"#;

struct Setup {
    dir: TempDir,
}

impl Setup {
    fn new(tag: &str) -> Setup {
        let dir = temp_dir(tag);
        std::fs::copy(repo("inventory.ini"), dir.join("inventory.ini")).expect("copy inventory");
        let fake = dir.join("fake-ansible-playbook");
        std::fs::write(&fake, FAKE).expect("write fake");
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::create_dir(dir.join("playbooks")).expect("playbooks dir");
        for s in [
            "local_prepare",
            "bootstrap",
            "deploy",
            "start",
            "status",
            "stop",
            "cleanup",
            "upgrade",
            "reload",
            "scale_in",
            "backup",
            "restore",
        ] {
            std::fs::write(dir.join(format!("playbooks/{s}.yml")), "---\n").expect("playbook");
        }
        Setup { dir }
    }

    fn inv(&self) -> String {
        self.dir.path("inventory.ini")
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = metis_deploy();
        // No Ansible configuration of the operator's but possibly /etc/ansible/ansible.cfg.
        cmd.env_remove("ANSIBLE_PIPELINING")
            .env_remove("ANSIBLE_CONFIG")
            .env("HOME", self.dir.path("."))
            .current_dir(self.dir.path("."));
        cmd.envs(env.iter().copied());
        let fake = self.dir.path("fake-ansible-playbook");
        let mut all: Vec<&str> = args.to_vec();
        let at = all.iter().position(|a| *a == "--").unwrap_or(all.len());
        if args[0] != "runs" {
            all.splice(at..at, ["--ansible-bin", fake.as_str()]);
        }
        cmd.args(&all).output().expect("run metis-deploy")
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.join(".metis-deploy/lab")
    }

    /// The directory of the run `id`.
    fn run_dir(&self, id: &str) -> PathBuf {
        self.state_dir().join("runs").join(id)
    }

    fn runs(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["runs", &self.inv(), "--format", "json"], &[]);
        assert_exit(&out, 0);
        json(&out).as_array().expect("array").clone()
    }

    /// The first recorded run of `operation`.
    fn run_of(&self, operation: &str) -> serde_json::Value {
        let mut runs = self.runs().into_iter();
        runs.find(|r| r["operation"] == operation)
            .unwrap_or_else(|| panic!("no {operation} run"))
    }
}

/// A run's id.
fn run_id(run: &serde_json::Value) -> String {
    run["id"].as_str().expect("id").to_owned()
}

fn statuses(run: &serde_json::Value) -> Vec<&str> {
    run["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["status"].as_str().expect("status"))
        .collect()
}

#[test]
fn a_failed_step_stops_up_and_replay_resumes_there() {
    let t = Setup::new("runner-replay");
    let inv = t.inv();
    let out = t.run(
        &["up", &inv, "-y", "--", "-e", "offline_bundle=/srv/b"],
        &[("FAIL_STEP", "bootstrap")],
    );
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("step bootstrap failed"), "{err}");
    assert!(
        err.contains(
            "198.51.100.12 failed in task \"Check ports\": 198.51.100.12: port 8701/tcp is taken"
        ),
        "{err}"
    );
    assert!(err.contains("02-bootstrap.log"), "{err}");
    let runs = t.runs();
    assert_eq!(runs.len(), 1);
    let id = run_id(&runs[0]);
    assert!(
        err.contains(&format!("resume:   metis-deploy replay {id} -i {inv}")),
        "{err}"
    );
    assert_eq!(
        statuses(&runs[0]),
        ["succeeded", "failed", "pending", "pending", "pending"]
    );
    assert_eq!(runs[0]["outcome"], "failed");
    assert_eq!(
        runs[0]["ansible_args"],
        serde_json::json!(["-e", "offline_bundle=/srv/b"])
    );
    // The full log has ansible-playbook's own output, with the pass-through arguments.
    let run_dir = t.run_dir(&id);
    let log = std::fs::read_to_string(run_dir.join("02-bootstrap.log")).expect("log");
    assert!(log.contains("offline_bundle=/srv/b"), "{log}");
    // ssh pipelining is on unless the operator's configuration or environment says otherwise.
    // (This machine's /etc/ansible/ansible.cfg, if any, may set it.)
    let etc = std::fs::read_to_string("/etc/ansible/ansible.cfg").unwrap_or_default();
    let pipelining = if metis_runner::ansible::config_entries(&etc)
        .iter()
        .any(|(_, k, _)| k == "pipelining")
    {
        "(pipelining unset)"
    } else {
        "(pipelining True)"
    };
    assert!(log.contains(pipelining), "{log}");

    // Replay: local_prepare is not run again, the rest is.
    let out = t.run(&["replay", &id, "-i", &inv, "-y"], &[]);
    assert_exit(&out, 0);
    let runs = t.runs();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        statuses(&runs[1]),
        [
            "skipped",
            "succeeded",
            "succeeded",
            "succeeded",
            "succeeded"
        ]
    );
    assert_eq!(runs[1]["replay_of"], id.as_str());
    assert!(!t
        .run_dir(&run_id(&runs[1]))
        .join("01-local_prepare.log")
        .exists());
    // Replaying a run that succeeded does nothing.
    let out = t.run(&["replay", &run_id(&runs[1]), "-i", &inv], &[]);
    assert_refused(&out, 0, "nothing to replay");
    assert_eq!(t.runs().len(), 2);

    // One audit line per run; private modes; no secret anywhere in the state directory.
    let audit = std::fs::read_to_string(t.state_dir().join("audit.log")).expect("audit");
    assert_eq!(audit.lines().count(), 2);
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&run_dir), 0o700);
    assert_eq!(mode(&run_dir.join("state.json")), 0o600);
    assert_eq!(mode(&run_dir.join("02-bootstrap.log")), 0o600);
    assert_eq!(mode(&t.state_dir().join("audit.log")), 0o600);
    for f in files_below(&t.state_dir()) {
        let text = std::fs::read_to_string(t.state_dir().join(&f)).unwrap_or_default();
        for (_, secret) in sandbox_secrets() {
            assert!(!text.contains(&secret), "a secret in {}", f.display());
        }
    }
}

#[test]
fn replay_refuses_a_changed_inventory_unless_forced() {
    let t = Setup::new("runner-changed");
    let inv = t.inv();
    assert_exit(&t.run(&["up", &inv, "-y"], &[("FAIL_STEP", "deploy")]), 1);
    let id = run_id(&t.runs()[0]);
    let mut text = std::fs::read_to_string(&inv).expect("read");
    text.push_str("\n# changed\n");
    std::fs::write(&inv, text).expect("write");
    let out = t.run(&["replay", &id, "-i", &inv, "-y"], &[]);
    assert_refused(&out, 2, "changed since run");
    assert_eq!(t.runs().len(), 1, "nothing ran");
    let out = t.run(&["replay", &id, "-i", &inv, "-y", "--force"], &[]);
    assert_exit(&out, 0);
    assert_eq!(
        statuses(&t.runs()[1]),
        ["skipped", "skipped", "succeeded", "succeeded", "succeeded"]
    );
}

#[test]
fn secrets_given_as_arguments_are_not_recorded() {
    let t = Setup::new("runner-secret-args");
    let inv = t.inv();
    let (_, secret) = sandbox_secrets().into_iter().next().expect("a secret");
    let arg = format!("mysql_root_password={secret}");
    let out = t.run(
        &["up", &inv, "-y", "--", "-e", &arg],
        &[("FAIL_STEP", "start")],
    );
    assert_exit(&out, 1);
    let id = run_id(&t.runs()[0]);
    let state = std::fs::read_to_string(t.run_dir(&id).join("state.json")).expect("state");
    assert!(!state.contains(&secret));
    assert!(state.contains("<redacted>"));
    // Nor in any other file the runner writes (state, events, audit line). The steps' logs are
    // ansible-playbook's own output, which this stand-in fills with its arguments.
    let written: Vec<PathBuf> = files_below(&t.state_dir())
        .into_iter()
        .filter(|f| f.extension().is_none_or(|x| x != "log") || f.ends_with("audit.log"))
        .collect();
    for f in &written {
        let text = std::fs::read_to_string(t.state_dir().join(f)).expect("read");
        assert!(!text.contains(&secret), "a secret in {}", f.display());
    }
    assert!(
        written.len() >= 3,
        "state, events and audit files: {written:?}"
    );
    // Replaying it needs the arguments again.
    let out = t.run(&["replay", &id, "-i", &inv, "-y"], &[]);
    assert_refused(&out, 2, "pass them again");
}

/// An operator with an Ansible configuration of their own (here ./ansible.cfg) gets it, not the
/// runner's defaults.
#[test]
fn the_operators_ansible_cfg_rules() {
    let t = Setup::new("runner-own-cfg");
    std::fs::write(
        t.dir.join("ansible.cfg"),
        "[connection]\npipelining = False\n",
    )
    .expect("cfg");
    let out = t.run(&["up", &t.inv(), "-y", "--only", "deploy"], &[]);
    assert_exit(&out, 0);
    let log = std::fs::read_to_string(t.run_dir(&run_id(&t.runs()[0])).join("03-deploy.log"))
        .expect("log");
    assert!(log.contains("(pipelining unset)"), "{log}");
}

#[test]
fn up_steps_and_usage_errors() {
    let t = Setup::new("runner-usage");
    let inv = t.inv();
    let out = t.run(&["up", &inv, "-y", "--only", "deploy"], &[]);
    assert_exit(&out, 0);
    assert_eq!(
        statuses(&t.runs()[0]),
        ["skipped", "skipped", "succeeded", "skipped", "skipped"]
    );
    let out = t.run(&["up", &inv, "-y", "--from", "start"], &[]);
    assert_exit(&out, 0);
    assert_eq!(
        statuses(&t.runs()[1]),
        ["skipped", "skipped", "skipped", "succeeded", "succeeded"]
    );
    let out = t.run(&["up", &inv, "-y", "--from", "nope"], &[]);
    assert_refused(
        &out,
        2,
        "one of: local_prepare, bootstrap, deploy, start, status",
    );
    let out = t.run(&["up", "/nonexistent/inventory.ini", "-y"], &[]);
    assert_exit(&out, 2);
    let out = run(&[
        "up",
        &inv,
        "-y",
        "--ansible-bin",
        "/nonexistent/ansible-playbook",
    ]);
    assert_refused(&out, 2, "--ansible-bin");
    assert_eq!(t.runs().len(), 2, "usage errors record no run");
}

#[test]
fn destroy_without_the_right_name_runs_nothing() {
    let t = Setup::new("runner-destroy");
    let inv = t.inv();
    let out = t.run(&["destroy", &inv, "--confirm", "other"], &[]);
    assert_refused(&out, 2, "nothing was removed; run again with --confirm lab");
    // Not on a terminal and no --confirm: refused too.
    let out = t.run(&["destroy", &inv], &[]);
    assert_exit(&out, 2);
    assert!(t.runs().is_empty());
    let out = t.run(
        &["destroy", &inv, "--confirm", "lab"],
        &[("ANSIBLE_PIPELINING", "False")],
    );
    assert_exit(&out, 0);
    let runs = t.runs();
    assert_eq!(runs[0]["steps"][0]["extra_vars"]["confirm_cleanup"], "lab");
    let log =
        std::fs::read_to_string(t.run_dir(&run_id(&runs[0])).join("01-cleanup.log")).expect("log");
    assert!(log.contains(r#"-e {"confirm_cleanup":"lab"}"#), "{log}");
    assert!(log.contains("(pipelining False)"), "{log}");
}

#[test]
fn day2_subcommands_fill_their_playbooks_variables() {
    let t = Setup::new("runner-day2");
    let inv = t.inv();
    // scale-in removes a host: the host typed again, else nothing runs.
    let out = t.run(&["scale-in", &inv, "--host", "198.51.100.13"], &[]);
    assert_refused(&out, 2, "run again with --confirm 198.51.100.13");
    let out = t.run(
        &[
            "scale-in",
            &inv,
            "--host",
            "198.51.100.13",
            "--confirm",
            "198.51.100.12",
        ],
        &[],
    );
    assert_exit(&out, 2);
    assert!(t.runs().is_empty());
    let out = t.run(
        &[
            "scale-in",
            &inv,
            "--host",
            "198.51.100.13",
            "--confirm",
            "198.51.100.13",
        ],
        &[],
    );
    assert_exit(&out, 0);
    let vars = &t.runs()[0]["steps"][0]["extra_vars"];
    assert_eq!(vars["scale_in_host"], "198.51.100.13");
    assert_eq!(vars["confirm_scale_in"], "198.51.100.13");
    // upgrade: local_prepare gets the bundle (absolute), then the upgrade playbook.
    let out = t.run(&["upgrade", &inv, "--bundle", "some/bundle", "-y"], &[]);
    assert_exit(&out, 0);
    let run = t.run_of("upgrade");
    assert_eq!(statuses(&run), ["succeeded", "succeeded"]);
    let bundle = run["steps"][0]["extra_vars"]["offline_bundle"]
        .as_str()
        .expect("offline_bundle");
    assert!(
        Path::new(bundle).is_absolute() && bundle.ends_with("some/bundle"),
        "{bundle}"
    );
    // --rollback takes no bundle; without either, a usage error.
    let out = t.run(&["upgrade", &inv, "--rollback", "-y"], &[]);
    assert_exit(&out, 0);
    assert_exit(&t.run(&["upgrade", &inv], &[]), 2);
    // restore: a missing archive is named before anything runs.
    let before = t.runs().len();
    let out = t.run(
        &[
            "restore",
            &inv,
            "/nonexistent/backup.tar.gz",
            "--confirm",
            "lab",
        ],
        &[],
    );
    assert_refused(
        &out,
        2,
        "/nonexistent/backup.tar.gz: no such backup archive",
    );
    // restore replaces the database and the identity: the organisation's name, typed.
    let archive = t.dir.path("backup.tar.gz");
    std::fs::write(&archive, "not read by the stand-in").expect("archive");
    let out = t.run(&["restore", &inv, &archive], &[]);
    assert_refused(
        &out,
        2,
        "nothing was restored; run again with --confirm lab",
    );
    assert_eq!(t.runs().len(), before);
    let out = t.run(&["restore", &inv, &archive, "--confirm", "lab"], &[]);
    assert_exit(&out, 0);
    let run = t.run_of("restore");
    assert_eq!(run["steps"][0]["extra_vars"]["restore_file"], archive);
    assert_eq!(run["steps"][0]["extra_vars"]["confirm_restore"], "lab");
}

#[test]
fn replaying_an_only_run_runs_that_step_only() {
    let t = Setup::new("runner-replay-only");
    let inv = t.inv();
    let out = t.run(
        &["up", &inv, "-y", "--only", "deploy"],
        &[("FAIL_STEP", "deploy")],
    );
    assert_exit(&out, 1);
    let id = run_id(&t.runs()[0]);
    let out = t.run(&["replay", &id, "-i", &inv, "-y"], &[]);
    assert_exit(&out, 0);
    let replay = t
        .runs()
        .into_iter()
        .find(|r| r["id"] != id.as_str())
        .expect("the replay's run");
    assert_eq!(
        statuses(&replay),
        ["skipped", "skipped", "succeeded", "skipped", "skipped"]
    );
}

#[test]
fn replaying_a_destructive_run_asks_again() {
    let t = Setup::new("runner-replay-destroy");
    let inv = t.inv();
    let out = t.run(
        &["destroy", &inv, "--confirm", "lab"],
        &[("FAIL_STEP", "cleanup")],
    );
    assert_exit(&out, 1);
    let id = run_id(&t.runs()[0]);
    // The recorded confirmation does not count: refused without it, nothing run.
    let out = t.run(&["replay", &id, "-i", &inv, "-y"], &[]);
    assert_refused(&out, 2, "nothing was removed; run again with --confirm lab");
    assert_eq!(t.runs().len(), 1);
    let out = t.run(&["replay", &id, "-i", &inv, "--confirm", "lab"], &[]);
    assert_exit(&out, 0);
    // upgrade refuses a bundle URL with credentials before anything runs.
    let out = t.run(
        &[
            "upgrade",
            &inv,
            "--bundle",
            "https://u:secret@example.test/b.tar.gz",
            "-y",
        ],
        &[],
    );
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("carries credentials") && !stderr(&out).contains("secret@"));
    assert_eq!(t.runs().len(), 2);
}

#[test]
fn sigint_stops_the_step_and_records_an_interrupted_run() {
    let t = Setup::new("runner-sigint");
    let inv = t.inv();
    let mut cmd = metis_deploy();
    cmd.env("SLEEP_STEP", "deploy")
        .args(["up", &inv, "-y", "-q", "--ansible-bin"])
        .arg(t.dir.join("fake-ansible-playbook"))
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    // Wait until deploy runs.
    let deploy_log = || {
        std::fs::read_dir(t.state_dir().join("runs"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().join("03-deploy.events.jsonl").exists())
    };
    let started = std::time::Instant::now();
    while !deploy_log() && started.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().expect("wait");
    assert_exit(&out, 130);
    assert!(
        started.elapsed().as_secs() < 15,
        "the sleeping step was stopped"
    );
    let runs = t.runs();
    assert_eq!(runs[0]["outcome"], "interrupted");
    assert_eq!(statuses(&runs[0])[2], "interrupted");
}
