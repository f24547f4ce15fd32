//! Personal values (SIREN, tax numbers, names) replaced by stable placeholders.
//!
//! A placeholder is `<label:digest>`: `label` is the field the value was found under and
//! `digest` the first 6 bytes, in hex, of HMAC-SHA256(key, value). It is a function of the
//! value alone, so a replaying client computes the same placeholders for the same real values
//! and its calls match the recorded ones. Keyed rather than a plain hash: a SIREN has 9
//! digits, a tax number 13, and an unkeyed hash of either is reversed by trying them all; with
//! a key kept out of the cassette (an environment variable of the test run), the file alone
//! reveals nothing. The key never enters the file; a short check value of it does (HMAC of a
//! fixed label), so that replaying with another key fails with a clear message.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use sha2::Sha256;

use crate::core::secret::Secret;

/// Shortest key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 16;

/// Values shorter than this are replaced where they are marked personal, but not searched for
/// in other text (they would blank common words and numbers).
const MIN_SEARCH_LEN: usize = 3;

/// Which fields of a team's calls hold personal data, and the key of their placeholders.
///
/// ```
/// # #[cfg(feature = "cassette")] {
/// use gouvgen_runtime::PersonalFields;
/// let personal = PersonalFields::new("a key of 16 bytes or more, from the environment")
///     .path_params(["siren", "siret", "spi"])
///     .json_keys(["nom", "nmNaDec1", "numeroFiscal"]);
/// # let _ = personal; }
/// ```
#[derive(Clone)]
pub struct PersonalFields {
    key: Secret,
    path: BTreeSet<String>,
    query: BTreeSet<String>,
    json: BTreeSet<String>,
}

impl fmt::Debug for PersonalFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonalFields")
            .field("key", &self.key)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("json", &self.json)
            .finish()
    }
}

impl PersonalFields {
    /// Personal fields with the placeholder key (at least 16 bytes; keep it out of the
    /// repository holding the cassette; the same key must be given to record and to replay).
    pub fn new(key: impl Into<Secret>) -> Self {
        PersonalFields {
            key: key.into(),
            path: BTreeSet::new(),
            query: BTreeSet::new(),
            json: BTreeSet::new(),
        }
    }

    /// Path parameters, by their name in the path template (`siren` of `/unites_legales/{siren}`).
    pub fn path_params<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.path.extend(names.into_iter().map(Into::into));
        self
    }

    /// Query parameters (the traceability `object` too, if it names a person).
    pub fn query_params<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.query.extend(names.into_iter().map(Into::into));
        self
    }

    /// Keys of JSON request and response bodies (and of form bodies), at any depth.
    pub fn json_keys<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.json.extend(names.into_iter().map(Into::into));
        self
    }

    /// The same names as path parameters, query parameters and body keys.
    pub fn fields<I: IntoIterator<Item = S>, S: Into<String>>(self, names: I) -> Self {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        self.path_params(names.clone())
            .query_params(names.clone())
            .json_keys(names)
    }

    /// Whether the key is long enough.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.key.expose().len() < MIN_KEY_LEN {
            return Err(format!(
                "the personal-data key of a cassette must have at least {MIN_KEY_LEN} bytes"
            ));
        }
        Ok(())
    }
}

/// The placeholder rules of one cassette: personal fields and their key (none: no field is
/// personal).
#[derive(Clone, Debug, Default)]
pub(crate) struct Placeholders {
    fields: Option<PersonalFields>,
}

/// Personal values met in one exchange: placeholder digest → (label, real value).
#[derive(Default, Debug)]
pub(crate) struct Seen {
    values: BTreeMap<String, (String, String)>,
}

impl Seen {
    /// The values worth searching for in free text, longest first (so that a value inside
    /// another one does not leave the rest behind).
    fn needles(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .values
            .iter()
            .filter(|(_, (_, v))| v.chars().count() >= MIN_SEARCH_LEN)
            .map(|(d, (label, v))| (v.clone(), placeholder(label, d)))
            .collect();
        out.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        out
    }
}

fn placeholder(label: &str, digest: &str) -> String {
    format!("<{label}:{digest}>")
}

impl Placeholders {
    pub(crate) fn new(fields: Option<PersonalFields>) -> Self {
        Placeholders { fields }
    }

    fn mac(&self, data: &[u8]) -> Option<Vec<u8>> {
        let f = self.fields.as_ref()?;
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(f.key.expose().as_bytes()).ok()?;
        mac.update(data);
        Some(mac.finalize().into_bytes().to_vec())
    }

    /// A check value of the key (none without personal fields): tells a replay run with
    /// another key apart from a call that was never recorded.
    pub(crate) fn key_check(&self) -> Option<String> {
        self.mac(b"gouvgen cassette key check")
            .map(|m| hex(&m[..8]))
    }

    /// A digest of a body that cannot be recorded in clear (binary): keyed when a key is set.
    pub(crate) fn body_digest(&self, bytes: &[u8]) -> String {
        match self.mac(bytes) {
            Some(m) => format!("hmac-sha256:{}", hex(&m)),
            None => {
                use sha2::Digest;
                format!("sha256:{}", hex(&Sha256::digest(bytes)))
            }
        }
    }

    /// The stand-in of a personal number: a number (below 10⁹, so that it fits the integer
    /// or float field a typed client decodes it into) derived from the keyed digest. Unlike a
    /// text placeholder it is not put back in replay.
    fn pseudonym(&self, value: &str) -> u64 {
        let m = self.mac(value.as_bytes()).unwrap_or_default();
        let mut b = [0u8; 8];
        b.copy_from_slice(m.get(..8).unwrap_or(&[0; 8]));
        u64::from_be_bytes(b) % 1_000_000_000
    }

    /// The placeholder of `value` found under `label`, remembered in `seen`.
    fn replace(&self, label: &str, value: &str, seen: &mut Seen) -> String {
        let digest = self
            .mac(value.as_bytes())
            .map(|m| hex(&m[..6]))
            .unwrap_or_default();
        let p = placeholder(label, &digest);
        seen.values
            .entry(digest)
            .or_insert_with(|| (label.to_owned(), value.to_owned()));
        p
    }

    /// The path with its personal parameters replaced: the template's segments are aligned
    /// with the path's last segments (the path may start with a base path).
    pub(crate) fn path(&self, path: &str, template: Option<&str>, seen: &mut Seen) -> String {
        let (Some(f), Some(template)) = (&self.fields, template) else {
            return path.to_owned();
        };
        let mut segs: Vec<String> = path.split('/').map(str::to_owned).collect();
        let tsegs: Vec<&str> = template.split('/').collect();
        let Some(offset) = segs.len().checked_sub(tsegs.len()) else {
            return path.to_owned();
        };
        for (i, t) in tsegs.iter().enumerate() {
            let Some((pre, name, suf)) = split_param(t) else {
                continue;
            };
            let seg = &segs[offset + i];
            if !f.path.contains(name) || seg.len() < pre.len() + suf.len() {
                continue;
            }
            let Some(raw) = seg.strip_prefix(pre).and_then(|s| s.strip_suffix(suf)) else {
                continue;
            };
            let value = percent_decode_str(raw).decode_utf8_lossy().into_owned();
            let p = self.replace(name, &value, seen);
            segs[offset + i] = format!("{pre}{p}{suf}");
        }
        segs.join("/")
    }

    /// Query pairs with the values of personal parameters replaced.
    pub(crate) fn query(&self, pairs: &mut [(String, String)], seen: &mut Seen) {
        let Some(f) = &self.fields else { return };
        for (k, v) in pairs.iter_mut() {
            if f.query.contains(k.as_str()) {
                *v = self.replace(k, v, seen);
            }
        }
    }

    /// Form pairs: their names are body keys.
    pub(crate) fn form(&self, pairs: &mut [(String, String)], seen: &mut Seen) {
        let Some(f) = &self.fields else { return };
        for (k, v) in pairs.iter_mut() {
            if f.json.contains(k.as_str()) {
                *v = self.replace(k, v, seen);
            }
        }
    }

    /// A JSON value with every scalar under a personal key replaced (at any depth).
    pub(crate) fn json(&self, value: &mut Value, seen: &mut Seen) {
        let Some(f) = &self.fields else { return };
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if f.json.contains(k.as_str()) {
                        self.all_scalars(k, v, seen);
                    } else {
                        self.json(v, seen);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v, seen)),
            _ => {}
        }
    }

    fn all_scalars(&self, label: &str, value: &mut Value, seen: &mut Seen) {
        match value {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            Value::String(s) => *s = self.replace(label, s, seen),
            Value::Number(n) => {
                let text = n.to_string();
                self.replace(label, &text, seen);
                *value = Value::from(self.pseudonym(&text));
            }
            Value::Bool(_) => {
                *value = Value::String(self.replace(label, &value.to_string(), seen));
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| self.all_scalars(label, v, seen)),
            Value::Object(map) => map
                .values_mut()
                .for_each(|v| self.all_scalars(label, v, seen)),
        }
    }
}

/// Replaces, in free text, every personal value met so far by its placeholder (placeholders
/// already there are left whole: a short value may be part of a digest).
pub(crate) fn hide_seen(text: &str, seen: &Seen) -> String {
    let needles = seen.needles();
    if needles.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut plain = String::new();
    // One pass, longest value first at each position: a placeholder just written is never
    // searched again.
    let flush = |plain: &mut String, out: &mut String| {
        let s = std::mem::take(plain);
        let mut i = 0;
        while let Some(c) = s[i..].chars().next() {
            match needles.iter().find(|(v, _)| s[i..].starts_with(v.as_str())) {
                Some((v, p)) => {
                    out.push_str(p);
                    i += v.len();
                }
                None => {
                    out.push(c);
                    i += c.len_utf8();
                }
            }
        }
    };
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        plain.push_str(&rest[..start]);
        let tail = &rest[start..];
        match parse_placeholder(tail) {
            Some((len, _)) => {
                flush(&mut plain, &mut out);
                out.push_str(&tail[..len]);
                rest = &tail[len..];
            }
            None => {
                plain.push('<');
                rest = &tail[1..];
            }
        }
    }
    plain.push_str(rest);
    flush(&mut plain, &mut out);
    out
}

/// Replaces, in free text, every placeholder whose value the replaying call itself sent by
/// that value (placeholders of values it did not send stay).
pub(crate) fn restore(text: &str, seen: &Seen) -> String {
    if seen.values.is_empty() || !text.contains('<') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match parse_placeholder(tail).and_then(|(len, d)| Some((len, seen.values.get(d)?))) {
            Some((len, (_, value))) => {
                out.push_str(value);
                rest = &tail[len..];
            }
            None => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `<label:digest>` at the start of `s`: its length and digest.
fn parse_placeholder(s: &str) -> Option<(usize, &str)> {
    let end = s.find('>')?;
    let (label, digest) = s[1..end].split_once(':')?;
    let label_ok = !label.is_empty()
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let digest_ok = digest.len() == 12 && digest.chars().all(|c| c.is_ascii_hexdigit());
    (label_ok && digest_ok).then_some((end + 1, digest))
}

/// `pre{name}suf` of one template segment.
fn split_param(seg: &str) -> Option<(&str, &str, &str)> {
    let open = seg.find('{')?;
    let close = open + seg[open..].find('}')?;
    Some((&seg[..open], &seg[open + 1..close], &seg[close + 1..]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Placeholders {
        Placeholders::new(Some(
            PersonalFields::new("0123456789abcdef-test-key")
                .path_params(["siren"])
                .query_params(["nom"])
                .json_keys(["nom", "siren", "rfr"]),
        ))
    }

    #[test]
    fn same_value_same_placeholder_everywhere_and_restored() {
        let r = rules();
        let mut seen = Seen::default();
        let path = r.path(
            "/base/v3/unites_legales/130025265",
            Some("/v3/unites_legales/{siren}"),
            &mut seen,
        );
        assert!(!path.contains("130025265"), "{path}");
        assert!(
            path.starts_with("/base/v3/unites_legales/<siren:"),
            "{path}"
        );
        let mut body =
            serde_json::json!({"data": {"siren": "130025265", "nom": ["Dupont"], "rfr": 42150}});
        r.json(&mut body, &mut seen);
        let text = body.to_string();
        let rfr = &body["data"]["rfr"];
        assert!(
            rfr.is_u64() && rfr != 42150,
            "a number stays a number: {rfr}"
        );
        let mut again = serde_json::json!({"rfr": 42150});
        r.json(&mut again, &mut Seen::default());
        assert_eq!(&again["rfr"], rfr, "the same number, the same stand-in");
        assert!(
            !text.contains("130025265") && !text.contains("Dupont"),
            "{text}"
        );
        let p = path.rsplit('/').next().unwrap();
        assert!(
            text.contains(p),
            "the same value has the same placeholder: {text}"
        );
        let mut only_request = Seen::default();
        r.path(
            "/v3/unites_legales/130025265",
            Some("/v3/unites_legales/{siren}"),
            &mut only_request,
        );
        let back = restore(&text, &only_request);
        assert!(
            back.contains("130025265") && !back.contains("Dupont"),
            "{back}"
        );
    }

    #[test]
    fn free_text_loses_personal_values_but_placeholders_stay_whole() {
        let r = Placeholders::new(Some(
            PersonalFields::new("0123456789abcdef-test-key").fields(["n"]),
        ));
        let mut seen = Seen::default();
        let mut pairs = vec![("n".to_owned(), "42150".to_owned())];
        r.query(&mut pairs, &mut seen);
        let p = pairs[0].1.clone();
        // Every 3-character piece of the digest, as a personal value: none may break it.
        let digest = p
            .trim_end_matches('>')
            .rsplit(':')
            .next()
            .unwrap()
            .to_owned();
        for i in 0..digest.len() - 2 {
            r.query(
                &mut [("n".to_owned(), digest[i..i + 3].to_owned())],
                &mut seen,
            );
        }
        let text = format!("revenu 42150, déjà {p}");
        let hidden = hide_seen(&text, &seen);
        assert!(!hidden.contains("42150"), "{hidden}");
        assert!(hidden.ends_with(&format!("déjà {p}")), "{hidden}");
        assert_eq!(hidden.matches(&p).count(), 2, "{hidden}");
    }

    #[test]
    fn another_key_gives_other_placeholders() {
        let other = Placeholders::new(Some(
            PersonalFields::new("another key of 16 bytes").path_params(["siren"]),
        ));
        let (mut a, mut b) = (Seen::default(), Seen::default());
        let t = Some("/x/{siren}");
        assert_ne!(
            rules().path("/x/1", t, &mut a),
            other.path("/x/1", t, &mut b)
        );
        assert_ne!(rules().key_check(), other.key_check());
    }
}
