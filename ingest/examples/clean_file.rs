//! Prints the cleaned text and chunk labels of one text file (debug aid):
//! `cargo run -p zhiban-ingest --example clean_file -- FILE`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: clean_file FILE")?;
    let raw = if path.ends_with(".pdf") {
        zhiban_ingest::external::pdf_to_text(std::path::Path::new(&path), &Default::default())?.text
    } else {
        zhiban_ingest::text::decode_text(&std::fs::read(&path)?)?
    };
    let c = zhiban_ingest::clean::clean_text(&raw);
    println!("{c}\n-----");
    let (s, chunks) = zhiban_ingest::articles::split(&c);
    println!(
        "{s:?} {:?}",
        chunks.iter().map(|c| c.0.clone()).collect::<Vec<_>>()
    );
    Ok(())
}
