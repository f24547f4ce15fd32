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

/// A well-formed SIRET (see the module docs): the traceability `recipient` of API Entreprise
/// and API Particulier, checked when made. A SIRET names an establishment, not a person: it
/// prints as it is.
///
/// ```
/// use gouvgen_runtime::siret::Siret;
/// let s: Siret = "12000101100010".parse().unwrap();
/// assert_eq!(s.siren(), "120001011");
/// assert!("12000101100011".parse::<Siret>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Siret(String);

impl Siret {
    /// The SIRET, if `value` is one.
    pub fn new(value: &str) -> Result<Self, InvalidSiret> {
        if is_valid_siret(value) {
            Ok(Siret(value.to_owned()))
        } else {
            Err(InvalidSiret)
        }
    }

    /// Its 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SIREN of its company (the first nine digits).
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

impl std::str::FromStr for Siret {
    type Err = InvalidSiret;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Siret::new(s)
    }
}

impl std::fmt::Display for Siret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Siret> for String {
    fn from(s: Siret) -> String {
        s.0
    }
}

/// Not a SIRET. Names no value (the text may have been anything, a person's number included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidSiret;

impl std::fmt::Display for InvalidSiret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "not a SIRET: 14 digits with a Luhn key (La Poste's 356000000…: a digit sum that is a multiple of 5)",
        )
    }
}

impl std::error::Error for InvalidSiret {}

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
