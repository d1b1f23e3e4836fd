//! The operations as data (SPEC §3): each operation is an ordered list of steps, each step one
//! playbook with its extra variables. A new subcommand (the day-2 ones) is one entry of
//! [`OPERATIONS`] plus its clap arguments that fill [`Params`].

use std::collections::BTreeMap;

/// Where the value of an extra variable comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Always this text.
    Fixed(&'static str),
    /// The organisation's name the operator typed (or gave with `--confirm`).
    Confirmation,
    /// A parameter of the subcommand (`--host H`, a file argument...), by name.
    Param(&'static str),
    /// The `--bundle` parameter: `offline_bundle` for a directory or archive, `download_url`
    /// for an http(s) URL (the variable name is chosen by the value).
    Bundle,
}

/// One step: a playbook and its extra variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub playbook: &'static str,
    pub vars: &'static [(&'static str, Value)],
}

/// What the operator is asked before an operation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Nothing (read-only operations).
    Never,
    /// The plan is shown; `y` to go on, unless `-y` or not on a terminal.
    Plan,
    /// The organisation's name must be typed (or given with `--confirm NAME`).
    ClusterName,
    /// The value of this parameter (e.g. the host that scale-in removes) must be typed again
    /// (or given with `--confirm VALUE`).
    Typed(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    pub name: &'static str,
    pub steps: &'static [Step],
    pub confirm: Confirm,
}

const fn step(playbook: &'static str) -> Step {
    Step {
        playbook,
        vars: &[],
    }
}

/// Every operation. `status` is also the last step of `up`; the `status` subcommand itself is
/// a query (unit states and the core's health checks), not a recorded run.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "up",
        steps: &[
            step("local_prepare"),
            step("bootstrap"),
            step("deploy"),
            step("start"),
            step("status"),
        ],
        confirm: Confirm::Plan,
    },
    Operation {
        name: "down",
        steps: &[step("stop")],
        confirm: Confirm::Plan,
    },
    Operation {
        name: "restart",
        steps: &[step("restart")],
        confirm: Confirm::Plan,
    },
    Operation {
        name: "status",
        steps: &[step("status")],
        confirm: Confirm::Never,
    },
    Operation {
        name: "destroy",
        steps: &[Step {
            playbook: "cleanup",
            vars: &[("confirm_cleanup", Value::Confirmation)],
        }],
        confirm: Confirm::ClusterName,
    },
    // Day 2: each a subcommand that fills the named parameters.
    Operation {
        name: "upgrade",
        steps: &[
            Step {
                playbook: "local_prepare",
                vars: &[("", Value::Bundle)],
            },
            step("upgrade"),
        ],
        confirm: Confirm::Plan,
    },
    Operation {
        name: "rollback",
        steps: &[Step {
            playbook: "upgrade",
            vars: &[("upgrade_rollback", Value::Fixed("true"))],
        }],
        confirm: Confirm::Plan,
    },
    Operation {
        name: "reload",
        steps: &[step("reload")],
        confirm: Confirm::Plan,
    },
    Operation {
        name: "scale-in",
        steps: &[Step {
            playbook: "scale_in",
            vars: &[
                ("scale_in_host", Value::Param("host")),
                ("confirm_scale_in", Value::Confirmation),
            ],
        }],
        confirm: Confirm::Typed("host"),
    },
    Operation {
        name: "backup",
        steps: &[step("backup")],
        confirm: Confirm::Never,
    },
    Operation {
        name: "restore",
        steps: &[Step {
            playbook: "restore",
            vars: &[
                ("restore_file", Value::Param("file")),
                ("confirm_restore", Value::Confirmation),
            ],
        }],
        confirm: Confirm::ClusterName,
    },
];

/// True for a bundle given as an http(s) URL (else it is a path on the controller).
pub fn is_url(bundle: &str) -> bool {
    bundle.starts_with("http://") || bundle.starts_with("https://")
}

/// True when a URL carries credentials (`user:password@host`): they would be recorded and
/// shown on command lines, so the runner refuses such a bundle URL.
pub fn url_has_credentials(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.contains('@')
}

/// The operation named `name`.
pub fn operation(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|o| o.name == name)
}

/// The values of [`Value::Param`], [`Value::Bundle`] (`bundle`) and [`Value::Confirmation`]
/// (`confirmation`) for one run.
pub type Params = BTreeMap<String, String>;

/// The parameter holding the typed confirmation.
pub const CONFIRMATION: &str = "confirmation";
/// The parameter holding `--bundle`.
pub const BUNDLE: &str = "bundle";

/// A parameter the operation needs and the run did not get.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("operation {operation}: step {step} needs the parameter `{param}`")]
pub struct MissingParam {
    pub operation: &'static str,
    pub step: &'static str,
    pub param: String,
}

impl Step {
    /// The step's extra variables with their values, in order.
    pub fn extra_vars(
        &self,
        op: &Operation,
        params: &Params,
    ) -> Result<Vec<(String, String)>, MissingParam> {
        let get = |name: &str| {
            params.get(name).cloned().ok_or_else(|| MissingParam {
                operation: op.name,
                step: self.playbook,
                param: name.to_owned(),
            })
        };
        self.vars
            .iter()
            .map(|(name, value)| match value {
                Value::Fixed(v) => Ok(((*name).to_owned(), (*v).to_owned())),
                Value::Confirmation => Ok(((*name).to_owned(), get(CONFIRMATION)?)),
                Value::Param(p) => Ok(((*name).to_owned(), get(p)?)),
                Value::Bundle => {
                    let b = get(BUNDLE)?;
                    let var = if is_url(&b) {
                        "download_url"
                    } else {
                        "offline_bundle"
                    };
                    Ok((var.to_owned(), b))
                }
            })
            .collect()
    }
}

impl Operation {
    /// The index of the step named `name` (its playbook), for `--from` / `--only`.
    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.playbook == name)
    }

    pub fn step_names(&self) -> Vec<&'static str> {
        self.steps.iter().map(|s| s.playbook).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_spec() {
        let names = |op: &str| operation(op).expect(op).step_names();
        assert_eq!(
            names("up"),
            ["local_prepare", "bootstrap", "deploy", "start", "status"]
        );
        assert_eq!(names("down"), ["stop"]);
        assert_eq!(names("restart"), ["restart"]);
        assert_eq!(names("status"), ["status"]);
        assert_eq!(names("destroy"), ["cleanup"]);
        assert_eq!(names("upgrade"), ["local_prepare", "upgrade"]);
        assert_eq!(names("rollback"), ["upgrade"]);
        assert_eq!(names("reload"), ["reload"]);
        assert_eq!(names("scale-in"), ["scale_in"]);
        assert_eq!(names("backup"), ["backup"]);
        assert_eq!(names("restore"), ["restore"]);
        assert!(operation("nope").is_none());
        // Names are unique.
        for (i, a) in OPERATIONS.iter().enumerate() {
            assert!(OPERATIONS[i + 1..].iter().all(|b| b.name != a.name));
        }
    }

    #[test]
    fn destroy_needs_the_typed_name() {
        let op = operation("destroy").expect("destroy");
        assert_eq!(op.confirm, Confirm::ClusterName);
        let err = op.steps[0]
            .extra_vars(op, &Params::new())
            .expect_err("no confirmation");
        assert_eq!(err.param, CONFIRMATION);
        let params = Params::from([(CONFIRMATION.to_owned(), "lab".to_owned())]);
        assert_eq!(
            op.steps[0].extra_vars(op, &params),
            Ok(vec![("confirm_cleanup".into(), "lab".into())])
        );
    }

    #[test]
    fn day2_parameters() {
        let op = operation("upgrade").expect("upgrade");
        let p = |b: &str| Params::from([(BUNDLE.to_owned(), b.to_owned())]);
        assert_eq!(
            op.steps[0].extra_vars(op, &p("/srv/bundle")),
            Ok(vec![("offline_bundle".into(), "/srv/bundle".into())])
        );
        assert_eq!(
            op.steps[0].extra_vars(op, &p("https://example.test/b.tar.gz")),
            Ok(vec![(
                "download_url".into(),
                "https://example.test/b.tar.gz".into()
            )])
        );
        assert_eq!(op.steps[1].extra_vars(op, &p("x")), Ok(vec![]));
        let op = operation("scale-in").expect("scale-in");
        assert_eq!(op.confirm, Confirm::Typed("host"));
        let mut params = Params::from([("host".to_owned(), "198.51.100.13".to_owned())]);
        let err = op.steps[0]
            .extra_vars(op, &params)
            .expect_err("no typed confirmation");
        assert_eq!(err.param, CONFIRMATION);
        params.insert(CONFIRMATION.to_owned(), "198.51.100.13".to_owned());
        assert_eq!(
            op.steps[0].extra_vars(op, &params),
            Ok(vec![
                ("scale_in_host".into(), "198.51.100.13".into()),
                ("confirm_scale_in".into(), "198.51.100.13".into())
            ])
        );
        let op = operation("rollback").expect("rollback");
        assert_eq!(
            op.steps[0].extra_vars(op, &Params::new()),
            Ok(vec![("upgrade_rollback".into(), "true".into())])
        );
    }

    #[test]
    fn bundle_urls() {
        assert!(is_url("https://example.test/b.tar.gz") && is_url("http://x/y"));
        assert!(!is_url("/srv/bundle") && !is_url("bundle.tar.gz"));
        assert!(url_has_credentials(
            "https://user:token@example.test/b.tar.gz"
        ));
        assert!(url_has_credentials("https://token@example.test"));
        assert!(!url_has_credentials("https://example.test/a@b/b.tar.gz"));
        assert!(!url_has_credentials("https://example.test/b.tar.gz?x=a@b"));
    }

    #[test]
    fn step_lookup() {
        let up = operation("up").expect("up");
        assert_eq!(up.step_index("deploy"), Some(2));
        assert_eq!(up.step_index("cleanup"), None);
    }
}
