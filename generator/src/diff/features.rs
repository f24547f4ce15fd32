//! Changes of the Cargo features per tag: a feature removed, or an item that needs a feature
//! it did not need before, breaks callers who built with the old feature set.

use super::{ChangeKind, Differ, rule};
use crate::surface::{Gate, Surface};

impl Differ {
    /// Features that appeared or disappeared, and methods and types whose gate narrowed.
    pub(super) fn features(&mut self, os: &Surface, ns: &Surface) {
        let (old, new) = (&os.features, &ns.features);
        for feature in old.tags.keys().filter(|f| !new.tags.contains_key(*f)) {
            self.rust(
                true,
                ChangeKind::FeatureRemoved,
                rule::CARGO_FEATURE_REMOVE,
                format!("feature `{feature}`"),
                "the tag is gone: a build that turns this feature on fails",
            );
        }
        for feature in new.tags.keys().filter(|f| !old.tags.contains_key(*f)) {
            self.rust(
                false,
                ChangeKind::FeatureAdded,
                rule::CARGO_FEATURE_ADD,
                format!("feature `{feature}`"),
                "a new tag",
            );
        }
        for (om, og) in os.methods.iter().zip(&old.methods) {
            let found = ns.methods.iter().position(|n| n.name == om.name);
            if let Some(ng) = found.and_then(|i| new.methods.get(i)) {
                self.gate(&om.name, og, ng);
            }
        }
        for (ot, og) in os.types.iter().zip(&old.types) {
            let found = ns.types.iter().position(|n| n.name == ot.name);
            if let Some(ng) = found.and_then(|i| new.types.get(i)) {
                self.gate(&ot.path, og, ng);
            }
        }
    }

    /// An item is lost to callers of any old feature the new gate leaves out.
    fn gate(&mut self, location: &str, old: &Gate, new: &Gate) {
        if old == new || new.always() {
            return;
        }
        let lost: Vec<String> = match old.always() {
            true => vec!["no feature".into()],
            false => old.0.difference(&new.0).map(|f| format!("`{f}`")).collect(),
        };
        let needs: Vec<String> = new.0.iter().map(|f| format!("`{f}`")).collect();
        let breaking = !lost.is_empty();
        let detail = match breaking {
            true => format!(
                "now needs feature {} (was compiled with {})",
                needs.join(" or "),
                lost.join(" or ")
            ),
            false => format!("now also compiled with feature {}", needs.join(" or ")),
        };
        let category = match breaking {
            true => rule::ITEM_REMOVE,
            false => rule::ITEM_NEW,
        };
        self.rust(
            breaking,
            ChangeKind::FeatureGateChanged,
            category,
            location,
            detail,
        );
    }
}
