//! SIRET numbers, as API Entreprise and API Particulier check the traceability `recipient`:
//! 14 digits whose Luhn sum is a multiple of 10, except La Poste's establishments (SIREN
//! 356000000), whose digit sum is a multiple of 5. Checked before sending, so a malformed
//! recipient is not refused by the gateway and counted against the quota.

/// La Poste's SIREN: its SIRETs follow the digit-sum rule, not Luhn.
const LA_POSTE_SIREN: &str = "356000000";

/// Whether `value` is a well-formed SIRET (surrounding spaces are not allowed).
pub fn is_valid_siret(value: &str) -> bool {
    if value.len() != 14 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits = value.bytes().map(|b| u32::from(b - b'0'));
    if value.starts_with(LA_POSTE_SIREN) {
        return digits.sum::<u32>().is_multiple_of(5);
    }
    luhn_sum(value).is_multiple_of(10)
}

/// The Luhn sum of a string of ASCII digits (every second digit from the right doubled).
fn luhn_sum(digits: &str) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match i % 2 {
                1 if d * 2 > 9 => d * 2 - 9,
                1 => d * 2,
                _ => d,
            }
        })
        .sum()
}

/// Whether a call asks about its own recipient: a path segment or query value that is the
/// recipient's SIRET or its SIREN (the first nine digits). API Entreprise refuses it (422,
/// code 00211): the recipient is the public body entitled to the data, never the company
/// looked up.
pub(crate) fn asks_about_recipient<'a>(
    recipient: &str,
    path: &str,
    query_values: impl IntoIterator<Item = &'a str>,
) -> bool {
    let siren = recipient.get(..9).unwrap_or(recipient);
    let is_target = |v: &str| v == recipient || v == siren;
    let path = path.split('?').next().unwrap_or(path);
    path.split('/').any(is_target) || query_values.into_iter().any(is_target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_la_poste_rules() {
        // DINUM and INSEE establishments, and a La Poste one.
        for ok in ["13002526500013", "12000101100010", "35600000000001"] {
            assert!(is_valid_siret(ok), "{ok}");
        }
        for bad in [
            "13002526500014",
            "1300252650001",
            "130025265000130",
            " 13002526500013",
            "1300252650001a",
            "35600000000002",
            "35600000000048",
            "",
            "123",
        ] {
            assert!(!is_valid_siret(bad), "{bad}");
        }
    }

    #[test]
    fn a_call_about_the_recipient_is_seen_in_the_path_or_the_query() {
        let r = "13002526500013";
        assert!(asks_about_recipient(
            r,
            "/v3/insee/sirene/unites_legales/130025265",
            []
        ));
        assert!(asks_about_recipient(
            r,
            "/v3/insee/sirene/etablissements/13002526500013",
            []
        ));
        assert!(asks_about_recipient(r, "/v3/things", ["x", "130025265"]));
        assert!(!asks_about_recipient(
            r,
            "/v3/insee/sirene/unites_legales/418166096",
            ["130025266"]
        ));
    }
}
