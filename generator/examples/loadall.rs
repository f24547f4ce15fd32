fn main() {
    for arg in std::env::args().skip(1) {
        let t = std::time::Instant::now();
        match gouvgen::load::load_document(std::path::Path::new(&arg)) {
            Ok(d) => println!(
                "{arg}: ok {} keys in {:?}",
                d.root.as_object().map(|m| m.len()).unwrap_or(0),
                t.elapsed()
            ),
            Err(e) => println!("{arg}: ERR {e}"),
        }
    }
}
