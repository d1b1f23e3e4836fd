//! The README documents every diagnostic code, with the meaning the code itself gives.

use metis_core::Code;

#[test]
fn readme_lists_every_diagnostic_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    for code in Code::ALL {
        let row = format!("| `{}` | {} |", code.as_str(), code.describe());
        assert!(readme.contains(&row), "README.md lacks the row: {row}");
    }
}
