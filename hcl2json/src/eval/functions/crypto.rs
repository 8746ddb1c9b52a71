//! Hashing, bcrypt, RSA decryption and UUIDs, following HashiCorp's
//! go-cty-funcs `crypto` and `uuid` packages.

use std::fmt::Write as _;

use md5::Md5;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use uuid::Uuid;

use super::args::{go_quote, whole_number, FuncResult, Signature};
use super::encoding::go_base64_decode;
use super::FuncContext;
use crate::value::Value;

const MD5: Signature = Signature::fixed("md5", &["str"]);
const SHA1: Signature = Signature::fixed("sha1", &["str"]);
const SHA256: Signature = Signature::fixed("sha256", &["str"]);
const SHA512: Signature = Signature::fixed("sha512", &["str"]);
const BCRYPT: Signature = Signature::variadic("bcrypt", &["str"], "cost");
const RSADECRYPT: Signature = Signature::fixed("rsadecrypt", &["ciphertext", "privatekey"]);
const UUIDV4: Signature = Signature::fixed("uuidv4", &[]);
const UUIDV5: Signature = Signature::fixed("uuidv5", &["namespace", "name"]);

/// bcrypt's default cost, used when none is given or the given one is below 4.
const BCRYPT_DEFAULT_COST: i64 = 10;

/// Hashes the string argument of `sig` and returns the digest in hex.
fn hex_digest<D: Digest>(sig: &Signature, args: Vec<Value>) -> FuncResult {
    let [s] = sig.exact(args)?;
    let digest = D::digest(sig.string(0, &s)?.as_bytes());
    Ok(Value::String(hex(&digest)))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `md5(str)`: the MD5 digest of the string, in hex.
pub(crate) fn md5(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    hex_digest::<Md5>(&MD5, args)
}

/// `sha1(str)`: the SHA-1 digest of the string, in hex.
pub(crate) fn sha1(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    hex_digest::<Sha1>(&SHA1, args)
}

/// `sha256(str)`: the SHA-256 digest of the string, in hex.
pub(crate) fn sha256(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    hex_digest::<Sha256>(&SHA256, args)
}

/// `sha512(str)`: the SHA-512 digest of the string, in hex.
pub(crate) fn sha512(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    hex_digest::<Sha512>(&SHA512, args)
}

/// `bcrypt(str, cost?)`: a `$2a$` bcrypt hash of the string with a random
/// salt, at cost 10 unless another is given.
pub(crate) fn bcrypt(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([password], costs) = BCRYPT.split::<1>(args)?;
    let password = BCRYPT.string(0, &password)?;
    let cost = match costs.first() {
        Some(cost) => whole_number(BCRYPT.number(1, cost)?)?,
        None => BCRYPT_DEFAULT_COST,
    };
    if costs.len() > 1 {
        return Err("bcrypt() takes no more than two arguments".to_owned());
    }
    let cost = if cost < 4 { BCRYPT_DEFAULT_COST } else { cost };
    let failure = |why: String| format!("error occured generating password {why}");
    if cost > 31 {
        return Err(failure(format!(
            "crypto/bcrypt: cost {cost} is outside allowed range (4,31)"
        )));
    }
    if password.len() > 72 {
        return Err(failure(
            "bcrypt: password length exceeds 72 bytes".to_owned(),
        ));
    }
    let cost = u32::try_from(cost).unwrap_or(10);
    let hash = ::bcrypt::hash_with_result(password, cost).map_err(|e| failure(e.to_string()))?;
    Ok(Value::String(
        hash.format_for_version(::bcrypt::Version::TwoA),
    ))
}

/// `rsadecrypt(ciphertext, privatekey)`: the Base64 ciphertext decrypted
/// with a PEM, PKCS #1 RSA private key (PKCS #1 v1.5 padding).
pub(crate) fn rsadecrypt(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [ciphertext, key] = RSADECRYPT.exact(args)?;
    let ciphertext = RSADECRYPT.string(0, &ciphertext)?;
    let key = RSADECRYPT.string(1, &key)?;
    let encrypted = go_base64_decode(&ciphertext).ok_or_else(|| {
        format!(
            "failed to decode input {}: cipher text must be base64-encoded",
            go_quote(&ciphertext)
        )
    })?;
    let key = private_key(&key)?;
    let plain = key
        .decrypt(Pkcs1v15Encrypt, &encrypted)
        .map_err(|_| "crypto/rsa: decryption error".to_owned())?;
    Ok(Value::String(String::from_utf8_lossy(&plain).into_owned()))
}

/// Reads the first PEM block of `text` as a PKCS #1 RSA private key.
fn private_key(text: &str) -> Result<RsaPrivateKey, String> {
    let block = pem::parse_many(text)
        .ok()
        .and_then(|blocks| blocks.into_iter().next())
        .ok_or("failed to parse key: no key found")?;
    if block.headers().get("Proc-Type") == Some("4,ENCRYPTED") {
        return Err("failed to parse key: password protected keys are not supported. Please decrypt the key prior to use".to_owned());
    }
    RsaPrivateKey::from_pkcs1_der(block.contents())
        .map_err(|e| format!("x509: failed to parse private key: {e}"))
}

/// `uuidv4()`: a random UUID.
pub(crate) fn uuidv4(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [] = UUIDV4.exact(args)?;
    Ok(Value::String(Uuid::new_v4().to_string()))
}

/// `uuidv5(namespace, name)`: the name-based (SHA-1) UUID of `name` in a
/// namespace given as `dns`, `url`, `oid`, `x500` or a UUID.
pub(crate) fn uuidv5(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [namespace, name] = UUIDV5.exact(args)?;
    let namespace = UUIDV5.string(0, &namespace)?;
    let name = UUIDV5.string(1, &name)?;
    let ns = match namespace.as_str() {
        "dns" => Uuid::NAMESPACE_DNS,
        "url" => Uuid::NAMESPACE_URL,
        "oid" => Uuid::NAMESPACE_OID,
        "x500" => Uuid::NAMESPACE_X500,
        other => Uuid::parse_str(other).map_err(|_| {
            format!(
                "uuidv5() doesn't support namespace {other} ({})",
                uuid_parse_problem(other)
            )
        })?,
    };
    Ok(Value::String(
        Uuid::new_v5(&ns, name.as_bytes()).to_string(),
    ))
}

/// Why Go's `uuid.Parse` would refuse `text`.
fn uuid_parse_problem(text: &str) -> String {
    match text.len() {
        32 | 36 | 38 => "invalid UUID format".to_owned(),
        45 if !text.to_ascii_lowercase().starts_with("urn:uuid:") => {
            format!(
                "invalid urn prefix: {}",
                go_quote(text.get(..9).unwrap_or(text))
            )
        }
        45 => "invalid UUID format".to_owned(),
        n => format!("invalid UUID length: {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, s};
    use super::*;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::rand_core::{CryptoRng, Error as RandError, RngCore};

    #[test]
    fn digests_in_hex() {
        assert_eq!(
            call(md5, vec![s("hello world")]),
            Ok(s("5eb63bbbe01eeed093cb22bb8f5acdc3"))
        );
        assert_eq!(
            call(sha1, vec![s("hello world")]),
            Ok(s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"))
        );
        assert_eq!(
            call(sha256, vec![s("hello world")]),
            Ok(s(
                "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
            ))
        );
        assert_eq!(
            call(sha512, vec![s("")]),
            Ok(s("cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"))
        );
        assert_eq!(call(md5, vec![Value::from(1)]), call(md5, vec![s("1")]));
    }

    #[test]
    fn bcrypt_hashes_verify() {
        let Ok(Value::String(hash)) = call(bcrypt, vec![s("secret"), Value::from(4)]) else {
            panic!("bcrypt failed");
        };
        assert!(hash.starts_with("$2a$04$"), "{hash}");
        assert!(::bcrypt::verify("secret", &hash).unwrap_or(false));
        let Ok(Value::String(low)) = call(bcrypt, vec![s("x"), Value::from(1)]) else {
            panic!("bcrypt failed");
        };
        assert!(low.starts_with("$2a$10$"), "{low}");
        assert!(call(bcrypt, vec![s("x"), Value::from(32)])
            .unwrap_err()
            .contains("outside allowed range"));
        assert!(call(bcrypt, vec![s(&"x".repeat(73))])
            .unwrap_err()
            .contains("exceeds 72 bytes"));
        assert_eq!(
            call(bcrypt, vec![s("x"), Value::from(4), Value::from(4)]),
            Err("bcrypt() takes no more than two arguments".to_owned())
        );
    }

    /// A deterministic generator, good enough to make a throwaway test key.
    struct TestRng(u64);

    impl RngCore for TestRng {
        fn next_u32(&mut self) -> u32 {
            (self.next_u64() >> 32) as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for chunk in dest.chunks_mut(8) {
                let bytes = self.next_u64().to_le_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), RandError> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl CryptoRng for TestRng {}

    #[test]
    fn rsadecrypt_round_trip() {
        use base64::Engine as _;
        let mut rng = TestRng(0x2545_f491_4f6c_dd1d);
        let key = RsaPrivateKey::new(&mut rng, 512).expect("test key");
        let ciphertext = key
            .to_public_key()
            .encrypt(&mut rng, Pkcs1v15Encrypt, b"message")
            .expect("encrypt");
        let b64 = super::super::encoding::GO_BASE64.encode(ciphertext);
        let pem = key
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .expect("pem")
            .to_string();
        assert_eq!(
            call(
                rsadecrypt,
                vec![s(&b64), s(&format!("leading text\n{pem}"))]
            ),
            Ok(s("message"))
        );
        assert!(call(rsadecrypt, vec![s("!!"), s(&pem)])
            .unwrap_err()
            .contains("cipher text must be base64-encoded"));
        assert_eq!(
            call(rsadecrypt, vec![s(&b64), s("not a key")]),
            Err("failed to parse key: no key found".to_owned())
        );
        assert_eq!(
            call(rsadecrypt, vec![s("AAAA"), s(&pem)]),
            Err("crypto/rsa: decryption error".to_owned())
        );
        let encrypted_pem = pem.replacen(
            "-----\n",
            "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n",
            1,
        );
        assert!(call(rsadecrypt, vec![s(&b64), s(&encrypted_pem)])
            .unwrap_err()
            .contains("password protected keys are not supported"));
    }

    #[test]
    fn uuids() {
        let Ok(Value::String(v4)) = call(uuidv4, vec![]) else {
            panic!("uuidv4 failed");
        };
        assert_eq!(v4.len(), 36);
        assert_eq!(v4.as_bytes()[14], b'4');
        assert_eq!(
            call(uuidv5, vec![s("dns"), s("www.terraform.io")]),
            Ok(s("a5008fae-b28c-5ba5-96cd-82b4c53552d6"))
        );
        assert_eq!(
            call(uuidv5, vec![s("url"), s("https://www.terraform.io/")]),
            Ok(s("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5"))
        );
        assert_eq!(
            call(
                uuidv5,
                vec![
                    s("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
                    s("www.terraform.io")
                ]
            ),
            Ok(s("a5008fae-b28c-5ba5-96cd-82b4c53552d6"))
        );
        assert_eq!(
            call(uuidv5, vec![s("tada"), s("x")]),
            Err("uuidv5() doesn't support namespace tada (invalid UUID length: 4)".to_owned())
        );
        assert!(call(uuidv4, vec![s("x")]).is_err());
    }
}
