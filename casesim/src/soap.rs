//! SOAP 1.1 on the case system's side: the codec is shared with the client adapters.

pub use zhiban_wire::soap::*;
