//! Ingests a folder and prints the report (and, with a gold file, the metadata
//! score): `cargo run -p zhiban-ingest --release --example ingest_dir -- DIR [GOLD] [--no-ocr] [--docs]`.

use std::path::PathBuf;

use zhiban_ingest::{IngestOptions, ingest_folder, score_metadata};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(
        args.first()
            .ok_or("usage: ingest_dir DIR [GOLD] [--no-ocr] [--docs]")?,
    );
    let mut opts = IngestOptions::default();
    if args.iter().any(|a| a == "--no-ocr") {
        opts.tools.ocr = false;
    }
    let out = ingest_folder(&dir, &opts, None)?;
    let r = &out.report;
    println!(
        "files {} docs {:?} chunks {} ocr_pages {} errors {} warnings {} seconds {:.2}",
        r.files,
        r.documents,
        r.chunks,
        r.ocr_pages,
        r.errors.len(),
        r.warnings.len(),
        r.seconds
    );
    for e in &r.errors {
        println!("ERROR {}: {}", e.file, e.message);
    }
    for w in r.warnings.iter().take(60) {
        println!("WARN {}:{:?}: {}", w.file, w.line, w.message);
    }
    println!(
        "dictionary {} expansions {}",
        out.dictionary.len(),
        out.expansions.len()
    );
    if args.iter().any(|a| a == "--docs") {
        for d in out
            .documents
            .iter()
            .filter(|d| d.meta.kind == Some(zhiban_knowledge::DocKind::Policy))
        {
            let m = &d.meta;
            println!(
                "{} | {} | {:?} | {:?} | {:?} | pub {:?} eff {:?} exp {:?} | st {:?} ended {:?} | arts {} | sup {:?}",
                m.source_file,
                m.title,
                m.doc_number,
                m.issuer,
                m.level.map(|l| l.as_str()),
                m.published,
                m.effective,
                m.expires,
                m.status_override,
                m.ended,
                d.article_count(),
                m.supersedes
            );
        }
    }
    if let Some(i) = args.iter().position(|a| a == "--show") {
        let want = args.get(i + 1).cloned().unwrap_or_default();
        for d in out
            .documents
            .iter()
            .filter(|d| d.meta.source_file.contains(&want))
        {
            println!("== {} keywords {:?}", d.meta.source_file, d.meta.keywords);
            for c in &d.chunks {
                println!("[{:?} {:?}] {}", c.article, c.path, c.text);
            }
        }
    }
    if args.iter().any(|a| a == "--dump-records") {
        for d in out.documents.iter().filter(|d| {
            matches!(
                d.meta.kind,
                Some(zhiban_knowledge::DocKind::Case | zhiban_knowledge::DocKind::Catalog)
            )
        }) {
            for c in &d.chunks {
                println!("REC {}\t{}", d.meta.source_file, c.text.replace('\n', " "));
            }
        }
    }
    for q in ["支内回沪补贴", "失业登记", "长护险"] {
        println!("expansion {q} -> {:?}", out.expansions.get(q));
    }
    if let Some(gold) = args.get(1).filter(|a| !a.starts_with("--")) {
        let s = score_metadata(&out.documents, std::path::Path::new(gold))?;
        println!("gold {} missing {:?}", s.n_gold, s.missing);
        for (f, v) in &s.per_field {
            println!("  {f}: {:.3}", v);
        }
        for m in &s.mismatches {
            println!(
                "  MISMATCH {} {}: expected {} got {}",
                m.source_file, m.field, m.expected, m.got
            );
        }
    }
    Ok(())
}
