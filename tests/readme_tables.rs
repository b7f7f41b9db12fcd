//! Tables in the README that are copied from data files must show what the files hold:
//! `stale_sweep --out docs` rewrites `docs/stale_sweep.csv` and prints the table to paste,
//! and this test fails if the README was not updated with it (issue 11 item 20).

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A CSV cell as a number.
fn number(row: &[&str], at: usize) -> f64 {
    row[at]
        .parse()
        .unwrap_or_else(|e| panic!("{row:?}[{at}]: {e}"))
}

#[test]
fn the_readme_stale_sweep_table_shows_the_csv() {
    let readme = read("README.md");
    let csv = read("docs/stale_sweep.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|column| *column == name)
            .unwrap_or_else(|| panic!("no column {name} in docs/stale_sweep.csv"))
    };
    let mut rows = 0;
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        let ratio = row[column("d_over_t")];
        let table_row = readme
            .lines()
            .find(|text| text.starts_with(&format!("| {ratio} |")))
            .unwrap_or_else(|| panic!("README has no stale-sweep row for d/T = {ratio}"));
        let cells: Vec<&str> = table_row
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let percent = |value: f64| format!("{:.1} %", value * 100.0);
        let expected = [
            (2, row[column("n")].to_string()),
            (3, row[column("blocks")].to_string()),
            (4, row[column("stale")].to_string()),
            (5, percent(number(&row, column("measured_stale_rate")))),
            (6, percent(number(&row, column("model_stale_rate")))),
            (
                7,
                format!("{:.1} ms", number(&row, column("propagation_p50_ms"))),
            ),
            (8, percent(number(&row, column("model_at_propagation_p50")))),
        ];
        for (at, value) in expected {
            assert_eq!(
                cells.get(at).copied(),
                Some(value.as_str()),
                "README row for d/T = {ratio}, column {at}: {table_row}"
            );
        }
        rows += 1;
    }
    assert!(rows > 0, "docs/stale_sweep.csv has no rows");
}
