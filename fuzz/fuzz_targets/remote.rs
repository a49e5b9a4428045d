//! The remote agent's wire protocol: decoding any bytes is total (a message
//! or an error, never a panic), and a message that decodes encodes back to
//! the same frame.
#![no_main]

use exitmatrix::pure::remote;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(message) = remote::decode(bytes) {
        let frame = remote::encode(&message);
        assert_eq!(&frame[4..], bytes, "decode then encode changed the frame");
    }
    let _ = remote::decode_stream(bytes);
});
