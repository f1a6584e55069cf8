//! Property tests: the SOAP reader and the fault-spec parser never panic, and JSON survives the
//! XML mapping.

use proptest::prelude::*;
use serde_json::{Map, Value};
use zhiban_casesim::{FaultSpec, soap};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[\\PC&&[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{fffe}\u{ffff}]]{0,12}"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z][a-z_]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #[test]
    fn soap_reader_never_panics(s in "\\PC{0,200}") {
        let _ = soap::body_element(&s);
    }

    #[test]
    fn soap_reader_never_panics_on_xmlish_input(s in "(<[a-z:]{1,6}( [a-z:]{1,5}=\"[a-z0-9&;]{0,5}\")?/?>|</[a-z:]{1,6}>|[a-z&;#0-9 ]{0,5}){0,20}") {
        let _ = soap::body_element(&s);
    }

    #[test]
    fn fault_parser_never_panics(s in "\\PC{0,60}") {
        let _ = FaultSpec::parse(&s);
    }

    #[test]
    fn json_round_trips_through_soap(fields in prop::collection::btree_map("[a-z][a-z_]{0,6}", json_value(), 0..5)) {
        let v = Value::Object(fields.into_iter().collect());
        let xml = soap::response_envelope("op", &v);
        let el = soap::body_element(&xml).unwrap();
        prop_assert_eq!(soap::to_json(&el), v);
    }
}
