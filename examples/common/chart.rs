//! A hand-written SVG line chart for the attack experiments (`selfish_sweep`,
//! `double_spend`): a grid, axes with ticks, curves (the theory) and measured points with
//! 95 % interval bars, and a legend. One small writer rather than a plotting crate: the
//! charts are a few hundred lines of SVG.

use std::fmt::Write as _;

/// A curve drawn as a line.
pub struct Curve {
    /// Its legend entry; an empty label leaves it out of the legend (a chart with many
    /// curves of one kind explains the kind once).
    pub label: String,
    pub colour: &'static str,
    /// Dashed (a reference line) or solid.
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// Measured points: (x, y, half-width of the 95 % interval).
pub struct Points {
    /// Its legend entry; empty: none, as for [`Curve::label`].
    pub label: String,
    pub colour: &'static str,
    pub points: Vec<(f64, f64, f64)>,
}

/// The chart: title, axes' ranges, labels and tick steps.
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub x_step: f64,
    pub y_step: f64,
    /// Tick labels: how many decimals.
    pub x_decimals: usize,
    pub y_decimals: usize,
}

/// `text` made safe inside SVG (XML) text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Chart {
    pub fn render(&self, curves: &[Curve], points: &[Points]) -> String {
        let (width, height) = (720.0, 480.0);
        let (left, right, top, bottom) = (80.0, 20.0, 40.0, 60.0);
        let (x_lo, x_hi) = self.x_range;
        let (y_lo, y_hi) = self.y_range;
        let scale_y = |v: f64| (v - y_lo) / (y_hi - y_lo);
        let x = |v: f64| left + (v - x_lo) / (x_hi - x_lo) * (width - left - right);
        let y = |v: f64| height - bottom - scale_y(v).clamp(0.0, 1.0) * (height - top - bottom);
        let (x0, x1, y0, y1) = (left, width - right, height - bottom, top);
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">"#
        );
        out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
            width / 2.0,
            escape(&self.title)
        );
        let y_steps = ((y_hi - y_lo) / self.y_step).round() as i32;
        for i in 0..=y_steps {
            let v = y_lo + self.y_step * f64::from(i);
            let label = format!("{v:.*}", self.y_decimals);
            let _ = writeln!(
                out,
                r##"<line x1="{x0:.1}" y1="{py:.1}" x2="{x1:.1}" y2="{py:.1}" stroke="#e4e4e4"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end">{label}</text>"##,
                py = y(v),
                tx = x0 - 8.0,
                ty = y(v) + 4.0
            );
        }
        let x_steps = ((x_hi - x_lo) / self.x_step).round() as i32;
        for i in 0..=x_steps {
            let v = x_lo + self.x_step * f64::from(i);
            let _ = writeln!(
                out,
                r#"<line x1="{px:.1}" y1="{y0:.1}" x2="{px:.1}" y2="{:.1}" stroke="black"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{v:.*}</text>"#,
                y0 + 5.0,
                y0 + 20.0,
                self.x_decimals,
                px = x(v)
            );
        }
        let _ = writeln!(
            out,
            r#"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y0:.1}" stroke="black"/><line x1="{x0:.1}" y1="{y0:.1}" x2="{x0:.1}" y2="{y1:.1}" stroke="black"/>"#
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (x0 + x1) / 2.0,
            height - 15.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            out,
            r#"<text x="18" y="{c:.1}" text-anchor="middle" transform="rotate(-90 18 {c:.1})">{}</text>"#,
            escape(&self.y_label),
            c = (y0 + y1) / 2.0
        );
        for curve in curves {
            let line: Vec<String> = curve
                .points
                .iter()
                .map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b)))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline fill="none" stroke="{}" stroke-width="2"{} points="{}"/>"#,
                curve.colour,
                if curve.dashed {
                    r#" stroke-dasharray="6 4""#
                } else {
                    ""
                },
                line.join(" ")
            );
        }
        for set in points {
            for (a, b, spread) in &set.points {
                let _ = writeln!(
                    out,
                    r#"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="{c}" stroke-width="1.5"/><circle cx="{px:.1}" cy="{:.1}" r="4" fill="{c}"/>"#,
                    y(b - spread),
                    y(b + spread),
                    y(*b),
                    px = x(*a),
                    c = set.colour
                );
            }
        }
        let curves_listed = curves.iter().filter(|curve| !curve.label.is_empty());
        let points_listed = points.iter().filter(|set| !set.label.is_empty());
        let entries = curves_listed.clone().count() + points_listed.clone().count();
        let (lx, ly) = (x0 + 20.0, y1 + 15.0);
        let _ = writeln!(
            out,
            r##"<rect x="{:.1}" y="{:.1}" width="330" height="{}" fill="white" stroke="#999"/>"##,
            lx - 10.0,
            ly - 12.0,
            entries * 20 + 6
        );
        let mut row = ly;
        for curve in curves_listed {
            let _ = writeln!(
                out,
                r#"<line x1="{lx:.1}" y1="{row:.1}" x2="{:.1}" y2="{row:.1}" stroke="{}" stroke-width="2"{}/><text x="{:.1}" y="{:.1}">{}</text>"#,
                lx + 24.0,
                curve.colour,
                if curve.dashed {
                    r#" stroke-dasharray="6 4""#
                } else {
                    ""
                },
                lx + 32.0,
                row + 4.0,
                escape(&curve.label)
            );
            row += 20.0;
        }
        for set in points_listed {
            let _ = writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{row:.1}" r="4" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                lx + 12.0,
                set.colour,
                lx + 32.0,
                row + 4.0,
                escape(&set.label)
            );
            row += 20.0;
        }
        out.push_str("</svg>\n");
        out
    }
}
