//! Filters shared by every retrieval channel.

use chrono::NaiveDate;

use crate::document::DocKind;

/// Restricts which chunks may be returned. Empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only these kinds.
    pub kinds: Vec<DocKind>,
    /// Only chunks of documents tagged with one of these 事项编码.
    pub matter_codes: Vec<String>,
    /// Only chunks of these departments.
    pub departments: Vec<String>,
    /// Only chunks of documents in force on this date (see
    /// [`crate::DocumentMeta::status_on`]); `None` keeps every version.
    pub valid_on: Option<NaiveDate>,
}

impl Filter {
    /// True when the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
            && self.matter_codes.is_empty()
            && self.departments.is_empty()
            && self.valid_on.is_none()
    }
}
