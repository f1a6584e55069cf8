//! DOCX: paragraphs and tables of `word/document.xml`, in document order. Table
//! rows come out as `a | b | c`.

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{Error, Result};

/// Largest `document.xml` we inflate, so a zip bomb cannot exhaust memory.
const MAX_XML_BYTES: u64 = 200 * 1024 * 1024;

/// Extracts the text of a DOCX file.
///
/// # Errors
/// [`Error::BadDocx`] when the bytes are not a zip, lack `word/document.xml`, or the
/// XML is truncated; [`Error::Empty`] when the document holds no text.
pub fn docx_to_text(bytes: &[u8]) -> Result<String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Error::BadDocx(format!("不是有效的 zip 压缩包（{e}）")))?;
    let mut xml = String::new();
    {
        let file = archive
            .by_name("word/document.xml")
            .map_err(|_| Error::BadDocx("缺少 word/document.xml".into()))?;
        file.take(MAX_XML_BYTES)
            .read_to_string(&mut xml)
            .map_err(|e| Error::BadDocx(format!("word/document.xml 无法解压（{e}）")))?;
    }
    let text = document_xml_to_text(&xml)?;
    if text.trim().is_empty() {
        return Err(Error::Empty);
    }
    Ok(text)
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Walks WordprocessingML: `w:p` → line, `w:tbl/w:tr/w:tc` → row of cells.
fn document_xml_to_text(xml: &str) -> Result<String> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut para = String::new();
    // Stack of tables: each holds the current row's cells and the current cell text.
    let mut tables: Vec<(Vec<String>, String)> = Vec::new();
    let mut in_text = false;
    let mut depth_ok = false;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| Error::BadDocx(format!("XML 解析失败（{e}）")))?;
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                "body" => depth_ok = true,
                "t" => in_text = true,
                "tbl" => tables.push((Vec::new(), String::new())),
                "tr" => {
                    if let Some(t) = tables.last_mut() {
                        t.0.clear();
                    }
                }
                "tc" => {
                    if let Some(t) = tables.last_mut() {
                        t.1.clear();
                    }
                }
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "tab" => para.push(' '),
                "br" | "cr" => para.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => para.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    para.push(c);
                } else if let Some(c) = entity(&r) {
                    para.push(c);
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => {
                    let p = std::mem::take(&mut para);
                    match tables.last_mut() {
                        Some(t) => {
                            if !t.1.is_empty() && !p.trim().is_empty() {
                                t.1.push(' ');
                            }
                            t.1.push_str(p.trim());
                        }
                        None => {
                            out.push_str(p.trim());
                            out.push('\n');
                        }
                    }
                }
                "tc" => {
                    if let Some(t) = tables.last_mut() {
                        let cell = std::mem::take(&mut t.1);
                        t.0.push(cell.trim().to_string());
                    }
                }
                "tr" => {
                    if let Some(t) = tables.last_mut() {
                        let row = std::mem::take(&mut t.0);
                        let line = row.join(" | ");
                        if tables.len() == 1 {
                            out.push_str(&line);
                            out.push('\n');
                        } else if let Some(t) = tables.last_mut() {
                            t.1.push_str(&line);
                        }
                    }
                }
                "tbl" => {
                    let nested = tables.pop();
                    if let (Some((_, rest)), Some(parent)) = (nested, tables.last_mut()) {
                        parent.1.push_str(&rest);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !depth_ok || !tables.is_empty() {
        return Err(Error::BadDocx("文档结构不完整（正文或表格未闭合）".into()));
    }
    Ok(out)
}

/// Builds a minimal DOCX in memory from paragraphs and tables — used by tests and
/// benches to make inputs without binary fixtures.
pub fn build_docx(blocks: &[DocxBlock<'_>]) -> Result<Vec<u8>> {
    use std::io::Write;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut body = String::new();
    for b in blocks {
        match b {
            DocxBlock::Para(p) => body.push_str(&format!(
                "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                esc(p)
            )),
            DocxBlock::Table(rows) => {
                body.push_str("<w:tbl>");
                for r in *rows {
                    body.push_str("<w:tr>");
                    for c in *r {
                        body.push_str(&format!(
                            "<w:tc><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc>",
                            esc(c)
                        ));
                    }
                    body.push_str("</w:tr>");
                }
                body.push_str("</w:tbl>");
            }
        }
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let mut buf = Cursor::new(Vec::new());
    {
        let mut zw = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        let ct = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>";
        let zerr = |e: zip::result::ZipError| Error::BadDocx(e.to_string());
        zw.start_file("[Content_Types].xml", opts).map_err(zerr)?;
        zw.write_all(ct.as_bytes())?;
        zw.start_file("word/document.xml", opts).map_err(zerr)?;
        zw.write_all(xml.as_bytes())?;
        zw.finish().map_err(zerr)?;
    }
    Ok(buf.into_inner())
}

/// A block for [`build_docx`].
#[derive(Debug, Clone, Copy)]
pub enum DocxBlock<'a> {
    /// A paragraph.
    Para(&'a str),
    /// A table: rows of cells.
    Table(&'a [&'a [&'a str]]),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_tables_in_order() {
        let bytes = build_docx(&[
            DocxBlock::Para("关于调整补贴标准的通知"),
            DocxBlock::Table(&[&["项目", "标准"], &["居家养护", "每月300元 & 以上"]]),
            DocxBlock::Para("一、适用范围"),
        ])
        .unwrap();
        let t = docx_to_text(&bytes).unwrap();
        assert_eq!(
            t,
            "关于调整补贴标准的通知\n项目 | 标准\n居家养护 | 每月300元 & 以上\n一、适用范围\n"
        );
    }

    #[test]
    fn truncated_docx_is_a_clear_error() {
        let bytes = build_docx(&[DocxBlock::Para("内容")]).unwrap();
        let cut = &bytes[..bytes.len() / 2];
        let e = docx_to_text(cut).unwrap_err();
        assert!(matches!(e, Error::BadDocx(_)), "{e}");
        assert!(e.to_string().contains("DOCX"));
    }
}
