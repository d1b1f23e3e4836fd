//! Each role's `meta/argument_specs.yml` is exactly what the core generates from its variable
//! table (`metis-deploy argument-specs --write ansible_collection` rewrites them).

use metis_core::argument_specs::{path, render, ROLES};

#[test]
fn the_roles_argument_specs_are_generated_from_the_variable_table() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ansible_collection");
    let mut stale = Vec::new();
    for spec in ROLES {
        let file = format!("{root}/{}", path(spec.role));
        let on_disk = std::fs::read_to_string(&file).unwrap_or_default();
        if on_disk != render(spec) {
            stale.push(path(spec.role));
        }
    }
    assert!(
        stale.is_empty(),
        "stale: {} - run `metis-deploy argument-specs --write ansible_collection` and commit the result",
        stale.join(", ")
    );
    // Every role of the collection has its entry in the table.
    let roles = std::fs::read_dir(format!("{root}/roles")).expect("roles");
    for r in roles.flatten() {
        let name = r.file_name().to_string_lossy().into_owned();
        assert!(
            ROLES.iter().any(|s| s.role == name),
            "role {name} has no argument specs in the core"
        );
    }
}
