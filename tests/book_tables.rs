//! Tables in the book that are copied from data files must show what the files hold:
//! `stale_sweep` rewrites `docs/src/experiments/stale_sweep.csv` and prints the table to
//! paste into `docs/src/experiments/stale-rates.md`, and this test fails if the chapter was
//! not updated with it; the same for `selfish_sweep` and `double_spend`.

use ironchain::launch::race_odds::RaceRules;
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
fn the_book_stale_sweep_table_shows_the_csv() {
    let chapter = read("docs/src/experiments/stale-rates.md");
    let csv = read("docs/src/experiments/stale_sweep.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|column| *column == name)
            .unwrap_or_else(|| panic!("no column {name} in stale_sweep.csv"))
    };
    let mut rows = 0;
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        let ratio = row[column("d_over_t")];
        let table_row = chapter
            .lines()
            .find(|text| text.starts_with(&format!("| {ratio} |")))
            .unwrap_or_else(|| panic!("the chapter has no stale-sweep row for d/T = {ratio}"));
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
                "chapter row for d/T = {ratio}, column {at}: {table_row}"
            );
        }
        rows += 1;
    }
    assert!(rows > 0, "stale_sweep.csv has no rows");
}

/// The chapter's row that starts with `start`, split into trimmed cells.
fn chapter_row<'a>(chapter: &'a str, start: &str) -> Vec<&'a str> {
    chapter
        .lines()
        .find(|text| text.starts_with(start))
        .unwrap_or_else(|| panic!("the chapter has no row starting {start}"))
        .trim_matches('|')
        .split('|')
        .map(str::trim)
        .collect()
}

/// A chapter's cell ("0.215", "± 0.008", "14.7 %") as a fraction.
fn cell_value(cell: &str) -> f64 {
    let text = cell.trim_start_matches("± ");
    match text.strip_suffix(" %") {
        Some(percent) => percent.parse::<f64>().unwrap() / 100.0,
        None => text.parse().unwrap_or_else(|e| panic!("cell {cell}: {e}")),
    }
}

/// Checks that each `(cell, column)` of `cells` shows the CSV's value, up to the
/// rounding of both (the chapter has fewer decimals than the CSV).
fn assert_cells(cells: &[&str], row: &[&str], pairs: &[(usize, usize)], tolerance: f64) {
    for (at, column) in pairs {
        let shown = cell_value(cells[*at]);
        let value = number(row, *column);
        assert!(
            (shown - value).abs() <= tolerance,
            "cell {at} shows {shown}, the CSV {value}: {row:?}"
        );
    }
}

#[test]
fn the_book_selfish_sweep_table_shows_the_csv() {
    let chapter = read("docs/src/experiments/selfish-mining.md");
    let csv = read("docs/src/experiments/selfish_sweep.csv");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(!rows.is_empty(), "selfish_sweep.csv has no rows");
    for row in rows {
        // layout, alpha, blocks, measured_revenue, ci95, gamma0, gamma1, stale_rate
        let cells = chapter_row(&chapter, &format!("| {} | {} |", row[0], row[1]));
        assert_eq!(cells[2], row[2], "{row:?}");
        assert_cells(
            &cells,
            &row,
            &[(3, 3), (4, 4), (5, 5), (6, 6), (7, 7)],
            0.00056,
        );
    }
}

#[test]
fn the_book_double_spend_table_shows_the_csv() {
    let chapter = read("docs/src/experiments/double-spend.md");
    let csv = read("docs/src/experiments/double_spend.csv");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(!rows.is_empty(), "double_spend.csv has no rows");
    for row in rows {
        // q, z, trials, successes, measured_success_rate, ci95, nakamoto, nakamoto_z_plus_1,
        // exact_model
        let cells = chapter_row(
            &chapter,
            &format!("| {:.2} | {} |", number(&row, 0), row[1]),
        );
        assert_eq!((cells[2], cells[3]), (row[2], row[3]), "{row:?}");
        assert_cells(&cells, &row, &[(4, 4), (6, 6), (7, 7), (8, 8)], 0.00056);
        // The model column is the library's model of today, not of an older run.
        let z: u64 = row[1].parse().unwrap();
        let model = RaceRules::of_trial(z).odds(number(&row, 0)).success;
        assert!(
            (number(&row, 8) - model).abs() < 5e-7,
            "exact_model {} is not RaceRules::of_trial({z}) = {model}: {row:?}",
            row[8]
        );
    }
}
