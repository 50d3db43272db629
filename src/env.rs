//! The env store: config keys and `skynet.setenv` values, readable with GETENV.
//! Keys are write-once and values are never freed, so GETENV can hand out stable pointers.

use std::collections::HashMap;
use std::ffi::{CStr, CString};

use parking_lot::RwLock;

static ENV: RwLock<Option<HashMap<String, &'static CStr>>> = RwLock::new(None);

/// The value of `key`.
pub fn get(key: &str) -> Option<&'static CStr> {
    ENV.read().as_ref()?.get(key).copied()
}

/// The value of `key` as UTF-8 text.
pub fn get_str(key: &str) -> Option<&'static str> {
    get(key).and_then(|v| v.to_str().ok())
}

/// Sets `key` once; fails if it already has a value or the value contains NUL.
pub fn set(key: &str, value: &[u8]) -> Result<(), String> {
    let value = CString::new(value).map_err(|_| format!("env {key}: value contains a NUL byte"))?;
    let mut env = ENV.write();
    let map = env.get_or_insert_with(HashMap::new);
    if map.contains_key(key) {
        return Err(format!("Can't setenv exist key : {key}"));
    }
    map.insert(key.to_string(), Box::leak(value.into_boxed_c_str()));
    Ok(())
}

/// The integer value of `key`, or `default` (written back) when unset.
pub fn opt_int(key: &str, default: i64) -> Result<i64, String> {
    match get_str(key) {
        Some(v) => v.trim().parse().map_err(|_| format!("config key '{key}' must be an integer, got '{v}'")),
        None => {
            set(key, default.to_string().as_bytes())?;
            Ok(default)
        }
    }
}

/// The string value of `key`, or `default` (written back) when unset.
pub fn opt_string(key: &str, default: &str) -> Result<&'static str, String> {
    match get(key) {
        Some(v) => v.to_str().map_err(|_| format!("config key '{key}' is not valid UTF-8")),
        None => {
            set(key, default.as_bytes())?;
            get_str(key).ok_or_else(|| format!("config key '{key}' vanished"))
        }
    }
}

/// The boolean value of `key` (only "true" is true), or `default` (written back) when unset.
pub fn opt_bool(key: &str, default: bool) -> Result<bool, String> {
    match get_str(key) {
        Some(v) => Ok(v == "true"),
        None => {
            set(key, if default { b"true" } else { b"false" })?;
            Ok(default)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_write_once_and_defaults_written_back() {
        set("test_env_a", b"hello world").unwrap();
        assert_eq!(get_str("test_env_a"), Some("hello world"));
        assert!(set("test_env_a", b"again").is_err());
        assert_eq!(opt_int("test_env_thread", 8).unwrap(), 8);
        assert_eq!(get_str("test_env_thread"), Some("8"));
        set("test_env_bad", b"eight").unwrap();
        let err = opt_int("test_env_bad", 8).unwrap_err();
        assert!(err.contains("test_env_bad"), "{err}");
        assert!(!opt_bool("test_env_profile", false).unwrap());
        assert_eq!(get_str("test_env_profile"), Some("false"));
    }
}
