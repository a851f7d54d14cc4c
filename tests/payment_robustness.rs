//! Everything that reads what the network sends (IPN fields, PayFiP returns, SOAP answers)
//! must answer with an error, never panic, whatever arrives.

use ivr::payment::payfip::classic::ClassicReturn;
use ivr::payment::payfip::soap::{parse_call, parse_creer_response, parse_detail_response};
use ivr::payment::payfip::ws::notified_id_op_from;
use ivr::payment::systempay::{SystemPay, SystemPayConfig};
use proptest::prelude::*;

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("signature".to_owned()),
        Just("vads_ctx_mode".to_owned()),
        Just("vads_trans_status".to_owned()),
        Just("vads_amount".to_owned()),
        Just("resultrans".to_owned()),
        Just("MONTANT".to_owned()),
        Just("dattrans".to_owned()),
        Just("heurtrans".to_owned()),
        "vads_[a-z_]{0,12}",
        "[A-Za-z]{1,10}",
    ]
}

fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((field_name(), ".{0,24}"), 0..24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn ipn_verification_never_panics(f in fields()) {
        let shop = SystemPay::from_config(&SystemPayConfig {
            test_key: ivr::payment::systempay::EXAMPLE_TEST_KEY.into(),
            ..Default::default()
        }).unwrap();
        // Random fields cannot carry a valid signature.
        prop_assert!(shop.verify(&f).is_err());
    }

    #[test]
    fn classic_return_parsing_never_panics(f in fields()) {
        let _ = ClassicReturn::parse(&f);
    }

    #[test]
    fn soap_parsing_never_panics(xml in ".{0,300}") {
        prop_assert!(parse_creer_response(&xml).is_err());
        prop_assert!(parse_detail_response(&xml).is_err());
        let _ = parse_call(&xml);
    }

    #[test]
    fn soap_parsing_of_xmlish_input_never_panics(
        parts in prop::collection::vec(prop_oneof![
            Just("<S:Envelope>".to_owned()), Just("</S:Envelope>".to_owned()),
            Just("<S:Body>".to_owned()), Just("</S:Body>".to_owned()),
            Just("<return>".to_owned()), Just("</return>".to_owned()),
            Just("<idOp>".to_owned()), Just("</idOp>".to_owned()),
            Just("<S:Fault>".to_owned()), Just("<code>P5</code>".to_owned()),
            Just("<montant>12</montant>".to_owned()), Just("&amp;".to_owned()), Just("&bad;".to_owned()),
            Just("<![CDATA[x]]>".to_owned()), "[a-z0-9 ]{0,8}",
        ], 0..30)
    ) {
        let xml = parts.concat();
        let _ = parse_detail_response(&xml);
        let _ = parse_creer_response(&xml);
        let _ = parse_call(&xml);
    }

    #[test]
    fn notification_id_parsing_never_panics(q in ".{0,60}", b in ".{0,60}") {
        let _ = notified_id_op_from(Some(&q), b.as_bytes());
    }
}
