//! metis-runner: the lifecycle playbooks as one command. An operation (`up`, `down`,
//! `destroy`...; [`ops::OPERATIONS`]) is a list of steps, each one `ansible-playbook` run with
//! the collection's `metis.node.events` callback enabled; the runner shows live progress from
//! its events ([`ui`]), keeps a record of every run under the organisation's state directory
//! ([`record`]) and resumes a failed run from its first failed step.
//!
//! Blocking API (each call makes its own small tokio runtime): the CLI calls it from plain code.

pub mod ansible;
pub mod events;
pub mod ops;
pub mod record;
pub mod run;
pub mod status;
pub mod ui;

use metis_core::plan::HostPlan;
use std::fmt::Write;

/// The services in the order the playbooks start them (stop in reverse), each with the hosts
/// that run it: from the core's host plans (`order`), never re-derived here.
pub fn start_order(plans: &[HostPlan]) -> Vec<(&'static str, usize, Vec<String>)> {
    let mut out: Vec<(&'static str, usize, Vec<String>)> = Vec::new();
    for p in plans {
        for s in &p.services {
            match out.iter_mut().find(|(n, _, _)| *n == s.name) {
                Some((_, _, hosts)) => hosts.push(p.host.clone()),
                None => out.push((s.name, s.order, vec![p.host.clone()])),
            }
        }
    }
    out.sort_by_key(|(_, order, _)| *order);
    out
}

/// The plan shown before an operation: the organisation, its hosts and services, the order
/// of the services and the operation's steps.
pub fn plan_text(op: &ops::Operation, cluster: &str, plans: &[HostPlan], steps: &[&str]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} the organisation {cluster}: {} host(s)",
        op.name,
        plans.len()
    );
    for p in plans {
        let services: Vec<&str> = p.services.iter().map(|s| s.name).collect();
        let addr = if p.ip.is_empty() || p.ip == p.host {
            String::new()
        } else {
            format!(" ({})", p.ip)
        };
        let _ = writeln!(
            out,
            "  {}{addr}: {}",
            p.host,
            if services.is_empty() {
                "nothing".to_owned()
            } else {
                services.join(", ")
            }
        );
    }
    let order: Vec<String> = start_order(plans)
        .into_iter()
        .map(|(name, _, hosts)| format!("{name} ({})", hosts.len()))
        .collect();
    let _ = writeln!(out, "start order: {}", order.join(" -> "));
    let _ = writeln!(out, "steps: {}", steps.join(" -> "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use metis_core::inventory::templates::Need;
    use metis_core::model::Service;
    use metis_core::pipeline::{self, Env};
    use metis_core::services;

    pub(crate) fn example_plans() -> (String, Vec<HostPlan>) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../inventory.ini");
        let inv = pipeline::read(std::path::Path::new(path), false)
            .unwrap_or_else(|e| panic!("the example inventory reads: {e}"));
        let lookup = |_: &str| Some("test-value-1234567890".to_owned());
        let built = pipeline::build(inv, Env::Lookup(&lookup), Need::AllButSecrets);
        let org = built.organization.expect("the example organisation builds");
        (org.cluster_name.clone(), metis_core::plan::host_plans(&org))
    }

    #[test]
    fn the_shown_order_is_the_cores_start_order() {
        let (cluster, plans) = example_plans();
        assert_eq!(cluster, "lab");
        let shown: Vec<&str> = start_order(&plans).iter().map(|(n, _, _)| *n).collect();
        // The core's order of every service the example deploys (all of them).
        let mut core: Vec<Service> = Service::ALL.to_vec();
        core.sort_by_key(|s| services::start_order(*s));
        let core: Vec<&str> = core.iter().map(|s| s.name()).collect();
        assert_eq!(shown, core);
        let by_name = |n: &str| start_order(&plans).into_iter().find(|(s, _, _)| *s == n);
        assert_eq!(by_name("consul").map(|(_, _, h)| h.len()), Some(3));
        assert_eq!(
            by_name("carrier").map(|(_, _, h)| h),
            Some(vec!["198.51.100.12".to_owned()])
        );
        let up = ops::operation("up").expect("up");
        let text = plan_text(up, &cluster, &plans, &up.step_names());
        assert!(text.contains("start order: consul (3) -> icegrid (1) -> glacier2 (1) -> carrier (1) -> mysql (1) -> admin (1) -> nginx (1) -> data (2) -> compute (2)"), "{text}");
        assert!(text.contains("steps: local_prepare -> bootstrap -> deploy -> start -> status"));
    }

    #[test]
    fn up_deploys_before_it_starts_and_checks_last() {
        // The lifecycle: nothing starts before it is deployed, status is last.
        let up = ops::operation("up").expect("up");
        let i = |n: &str| up.step_index(n).expect(n);
        assert!(i("local_prepare") < i("bootstrap"));
        assert!(i("bootstrap") < i("deploy"));
        assert!(i("deploy") < i("start"));
        assert_eq!(i("status"), up.steps.len() - 1);
    }
}
