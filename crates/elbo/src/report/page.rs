//! One report, two renderings: a self-contained HTML page (every image
//! inlined as a `data:` URI, no script or style from the network) and the same
//! content as Markdown with the images beside it.
//!
//! The page is a flat list of [`Block`]s, so a partial report (a model that
//! could not be fitted) is still a complete, valid page that says so.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::{Error, Result};

/// A piece of the page, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading (level 2; the page title is level 1).
    Heading(String),
    /// A paragraph of plain text.
    Text(String),
    /// A highlighted notice (a missing model, a copying warning).
    Warning(String),
    /// A table: header cells, then rows of the same width.
    Table {
        /// Column titles.
        header: Vec<String>,
        /// Cells, row by row.
        rows: Vec<Vec<String>>,
    },
    /// A PNG written beside the page, with a caption.
    Image {
        /// The file, relative to the page's folder.
        file: PathBuf,
        /// Caption and alt text.
        caption: String,
    },
    /// Preformatted text (commands, config files).
    Code(String),
}

/// A titled list of blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The `<h1>` and `<title>`.
    pub title: String,
    /// The content.
    pub blocks: Vec<Block>,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}\
th{background:#eee}td:first-child,th:first-child,td.t{text-align:left}\
figure{display:inline-block;margin:0.5em 1em 0.5em 0;vertical-align:top}\
figcaption{font-size:90%;color:#555;max-width:420px}img{image-rendering:pixelated;max-width:100%}\
.warning{background:#fff3cd;border-left:4px solid #e0a800;padding:0.5em 1em}\
pre{background:#f4f4f4;padding:0.7em;overflow-x:auto}";

/// After loading, records on `<body>` how many images the page has and how
/// many failed to decode (`data-images`, `data-broken-images`), so a headless
/// browser can check that the page rendered as a reader sees it.
const CHECK_IMAGES: &str = "<script>window.addEventListener('load',function(){\
var im=document.images,b=0;for(var i=0;i<im.length;i++){if(!(im[i].complete&&im[i].naturalWidth>0))b++;}\
document.body.setAttribute('data-images',im.length);document.body.setAttribute('data-broken-images',b);});</script>\n";

impl Page {
    /// The HTML page; images are read from `dir` and inlined, so the file
    /// alone is the whole report.
    pub fn to_html(&self, dir: &Path) -> Result<String> {
        let mut h = String::new();
        let title = escape(&self.title);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
        );
        for block in &self.blocks {
            match block {
                Block::Heading(t) => _ = writeln!(h, "<h2>{}</h2>", escape(t)),
                Block::Text(t) => _ = writeln!(h, "<p>{}</p>", escape(t)),
                Block::Warning(t) => _ = writeln!(h, "<p class=\"warning\">{}</p>", escape(t)),
                Block::Code(t) => _ = writeln!(h, "<pre>{}</pre>", escape(t)),
                Block::Table { header, rows } => {
                    h.push_str("<table><tr>");
                    header
                        .iter()
                        .for_each(|c| _ = write!(h, "<th>{}</th>", escape(c)));
                    h.push_str("</tr>\n");
                    for row in rows {
                        h.push_str("<tr>");
                        // Numbers right-aligned (digits under digits), words left.
                        row.iter().for_each(|c| {
                            let class = if c.chars().any(|ch| ch.is_ascii_alphabetic()) {
                                " class=\"t\""
                            } else {
                                ""
                            };
                            _ = write!(h, "<td{class}>{}</td>", escape(c));
                        });
                        h.push_str("</tr>\n");
                    }
                    h.push_str("</table>\n");
                }
                Block::Image { file, caption } => {
                    let path = dir.join(file);
                    let bytes = crate::fsutil::read(&path)?;
                    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                    let _ = writeln!(
                        h,
                        "<figure><img src=\"data:image/png;base64,{data}\" alt=\"{0}\">\
                         <figcaption>{0}</figcaption></figure>",
                        escape(caption)
                    );
                }
            }
        }
        h.push_str(CHECK_IMAGES);
        h.push_str("</body></html>\n");
        Ok(h)
    }

    /// The same content as Markdown, images linked relative to the page.
    pub fn to_markdown(&self) -> String {
        let mut m = format!("# {}\n\n", self.title);
        for block in &self.blocks {
            match block {
                Block::Heading(t) => _ = write!(m, "## {t}\n\n"),
                Block::Text(t) => _ = write!(m, "{t}\n\n"),
                Block::Warning(t) => _ = write!(m, "> **Note:** {t}\n\n"),
                Block::Code(t) => _ = write!(m, "```\n{t}\n```\n\n"),
                Block::Table { header, rows } => {
                    // A '|' inside a cell would end it: escape it (GFM).
                    let cell = |c: &String| c.replace('|', "\\|").replace('\n', " ");
                    let cells = |r: &[String]| {
                        format!(
                            "| {} |\n",
                            r.iter().map(cell).collect::<Vec<_>>().join(" | ")
                        )
                    };
                    m.push_str(&cells(header));
                    m.push_str(&format!("|{}\n", "---|".repeat(header.len())));
                    rows.iter().for_each(|r| m.push_str(&cells(r)));
                    m.push('\n');
                }
                Block::Image { file, caption } => {
                    _ = write!(m, "![{caption}]({})\n\n", file.display());
                }
            }
        }
        m
    }

    /// Writes `report.html` and `report.md` into `dir` (atomically each);
    /// returns the HTML's path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let html = dir.join("report.html");
        crate::fsutil::atomic_write(&html, self.to_html(dir)?.as_bytes())?;
        crate::fsutil::atomic_write(&dir.join("report.md"), self.to_markdown().as_bytes())?;
        Ok(html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_text_and_inlines_images() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("a.png");
        image::RgbImage::new(2, 3).save(&png).unwrap();
        let page = Page {
            title: "t<1>".into(),
            blocks: vec![
                Block::Text("a & b".into()),
                Block::Image {
                    file: "a.png".into(),
                    caption: "x\"y".into(),
                },
                Block::Table {
                    header: vec!["model".into(), "nats".into()],
                    rows: vec![
                        vec!["vae".into(), "1.5".into()],
                        vec!["P(a | b)".into(), "2".into()],
                    ],
                },
            ],
        };
        let html = page.to_html(dir.path()).unwrap();
        assert!(html.contains("<h1>t&lt;1&gt;</h1>") && html.contains("a &amp; b"));
        assert!(html.contains("src=\"data:image/png;base64,iVBORw0KGgo"));
        assert!(html.contains("alt=\"x&quot;y\"") && html.contains("<td>1.5</td>"));
        assert!(
            html.contains("<td class=\"t\">vae</td>"),
            "words are left-aligned, numbers right"
        );
        let md = page.to_markdown();
        assert!(md.contains("![x\"y](a.png)") && md.contains("| vae | 1.5 |\n"));
        assert!(
            md.contains("| P(a \\| b) | 2 |\n"),
            "a pipe in a cell is escaped"
        );
    }

    #[test]
    fn a_missing_image_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let page = Page {
            title: "t".into(),
            blocks: vec![Block::Image {
                file: "gone.png".into(),
                caption: "c".into(),
            }],
        };
        let err = page.to_html(dir.path()).unwrap_err().to_string();
        assert!(err.contains("gone.png"), "{err}");
    }
}
