//! Bar charts drawn on the server as SVG, for the staff dashboard: no script and no
//! outside resource, so they show in any browser and print. Each chart is an image with
//! a title and a description for screen readers; the page puts the figures in a table
//! beside it as well.
//!
//! The drawing is sized for a phone (360 units wide, one unit a CSS pixel there) and
//! scales up with the page on a wider screen.

use maud::{Markup, html};

/// Width of the drawing, in SVG units.
const WIDTH: f64 = 360.0;
/// Height of the drawing.
const HEIGHT: f64 = 180.0;
/// Room on the left for the scale, below for the labels, above for the top figure.
const LEFT: f64 = 28.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 10.0;
const RIGHT: f64 = 4.0;

/// One series of bars: a name for the legend, a CSS class for its colour, a value per slot.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// The legend's name.
    pub name: &'a str,
    /// The CSS class of its bars (`chart-a`, `chart-b`, `chart-c` in the style sheet).
    pub class: &'a str,
    /// One value per slot along the bottom.
    pub values: &'a [u32],
}

/// A chart's words: its id (for the title and description), its title and what it shows.
#[derive(Debug, Clone, Copy)]
pub struct Caption<'a> {
    /// A unique id on the page.
    pub id: &'a str,
    /// The title, also the image's accessible name.
    pub title: &'a str,
    /// A sentence saying what the chart shows, with its key figure.
    pub description: &'a str,
}

/// The top of the scale: the largest value rounded up to 1, 2 or 5 times a power of ten.
pub fn scale_top(max: u32) -> u32 {
    if max <= 1 {
        return 1;
    }
    let mut step = 1u32;
    loop {
        for m in [1, 2, 5] {
            if let Some(top) = step.checked_mul(m)
                && top >= max
            {
                return top;
            }
        }
        match step.checked_mul(10) {
            Some(s) => step = s,
            None => return u32::MAX,
        }
    }
}

/// Grouped bars: for each slot along the bottom, one bar per series side by side.
/// `labels` name the slots; only every `label_every`-th is written, so that they fit.
pub fn bars(
    caption: Caption<'_>,
    labels: &[String],
    label_every: usize,
    series: &[Series<'_>],
) -> Markup {
    let slots = labels.len().max(1);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0);
    let top = scale_top(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot_w = plot_w / slots as f64;
    let bar_w = slot_w * 0.8 / series.len().max(1) as f64;
    let y = |v: u32| TOP + plot_h * (1.0 - f64::from(v) / f64::from(top));
    let title_id = format!("{}-title", caption.id);
    let desc_id = format!("{}-desc", caption.id);
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                aria-labelledby=(format!("{title_id} {desc_id}")) {
                title id=(title_id) { (caption.title) }
                desc id=(desc_id) { (caption.description) }
                // The scale: zero, half and the top, with light rules.
                @for v in [0, top / 2, top] {
                    line.chart-rule x1=(fmt(LEFT)) x2=(fmt(WIDTH - RIGHT)) y1=(fmt(y(v))) y2=(fmt(y(v))) {}
                    text.chart-scale x=(fmt(LEFT - 3.0)) y=(fmt(y(v) + 3.0)) text-anchor="end" { (v) }
                }
                @for (i, s) in series.iter().enumerate() {
                    g class=(s.class) {
                        @for (slot, v) in s.values.iter().enumerate().filter(|(_, v)| **v > 0) {
                            rect x=(fmt(LEFT + slot as f64 * slot_w + slot_w * 0.1 + i as f64 * bar_w))
                                y=(fmt(y(*v))) width=(fmt(bar_w)) height=(fmt(TOP + plot_h - y(*v))) {
                                title { (labels.get(slot).map(String::as_str).unwrap_or("")) " : " (v) }
                            }
                        }
                    }
                }
                @for (slot, label) in labels.iter().enumerate().filter(|(i, _)| i % label_every.max(1) == 0) {
                    text.chart-label x=(fmt(LEFT + slot as f64 * slot_w + slot_w / 2.0))
                        y=(fmt(HEIGHT - 8.0)) text-anchor="middle" { (label) }
                }
            }
            @if series.len() > 1 {
                figcaption.chart-legend {
                    @for s in series {
                        span { span class=(format!("chart-key {}", s.class)) aria-hidden="true" {} (s.name) }
                    }
                }
            }
        }
    }
}

/// A coordinate with one decimal: enough for the eye, short for the page.
fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_tops_at_one_two_or_five_times_ten_to_the_n() {
        let tops: Vec<u32> = [0, 1, 2, 3, 7, 10, 11, 19, 21, 60, 101, 4_000_000_000]
            .map(scale_top)
            .into();
        assert_eq!(tops, [1, 1, 2, 5, 10, 10, 20, 20, 50, 100, 200, u32::MAX]);
    }

    fn caption() -> Caption<'static> {
        Caption {
            id: "c",
            title: "Appels",
            description: "12 appels",
        }
    }

    #[test]
    fn one_bar_per_nonzero_value_its_height_in_proportion_and_a_named_image() {
        let labels: Vec<String> = ["a", "b", "c", "d"].map(String::from).into();
        let values = [0, 5, 10, 0];
        let svg = bars(
            caption(),
            &labels,
            2,
            &[Series {
                name: "x",
                class: "chart-a",
                values: &values,
            }],
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(
            svg.contains(r#"role="img" aria-labelledby="c-title c-desc""#),
            "{svg}"
        );
        assert!(
            svg.contains("<title id=\"c-title\">Appels</title>"),
            "{svg}"
        );
        // Top 10: the bar of 10 fills the plot (148 units), the bar of 5 half of it.
        assert!(
            svg.contains(r#"height="148.0""#) && svg.contains(r#"height="74.0""#),
            "{svg}"
        );
        // Labels a and c only (every second).
        assert!(
            svg.contains(">a</text>") && svg.contains(">c</text>") && !svg.contains(">b</text>")
        );
        assert!(!svg.contains("figcaption"), "one series needs no legend");
    }

    #[test]
    fn grouped_series_sit_side_by_side_with_a_legend() {
        let labels: Vec<String> = vec!["lun".into()];
        let svg = bars(
            caption(),
            &labels,
            1,
            &[
                Series {
                    name: "web",
                    class: "chart-a",
                    values: &[2],
                },
                Series {
                    name: "téléphone",
                    class: "chart-b",
                    values: &[4],
                },
            ],
        )
        .into_string();
        let xs: Vec<&str> = svg
            .match_indices("<rect x=\"")
            .map(|(i, _)| &svg[i + 9..i + 14])
            .collect();
        assert_eq!(xs.len(), 2);
        assert_ne!(xs[0], xs[1], "{svg}");
        assert!(svg.contains("figcaption") && svg.contains("téléphone"));
    }
}
