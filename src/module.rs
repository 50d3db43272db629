//! C service modules: found through the `cpath` templates, opened once with dlopen and never
//! closed, entered through `<name>_create/_init/_release/_signal`.

use std::ffi::{c_void, CStr, CString};
use std::sync::OnceLock;

use parking_lot::Mutex;

type CreateFn = unsafe extern "C" fn() -> *mut c_void;
type InitFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *const libc::c_char) -> i32;
type ReleaseFn = unsafe extern "C" fn(*mut c_void);
type SignalFn = unsafe extern "C" fn(*mut c_void, i32);

/// At most this many distinct modules, as upstream.
const MAX_MODULE_TYPE: usize = 32;

/// A loaded C service module.
pub struct Module {
    name: String,
    create: Option<CreateFn>,
    init: InitFn,
    release: Option<ReleaseFn>,
    signal: Option<SignalFn>,
}

static CPATH: OnceLock<Vec<String>> = OnceLock::new();
static MODULES: Mutex<Vec<&'static Module>> = Mutex::new(Vec::new());

/// Splits `cpath` into templates; each must contain `?`.
pub fn init(cpath: &str) -> Result<(), String> {
    let templates: Vec<String> = cpath.split(';').filter(|t| !t.is_empty()).map(str::to_string).collect();
    if let Some(bad) = templates.iter().find(|t| !t.contains('?')) {
        return Err(format!("Invalid C service path: '{bad}' in cpath has no '?'"));
    }
    let _ = CPATH.set(templates);
    Ok(())
}

/// The loaded module `name`, opening it on first use. Failures are logged; None then.
pub fn query(name: &str) -> Option<&'static Module> {
    let mut modules = MODULES.lock();
    if let Some(m) = modules.iter().find(|m| m.name == name) {
        return Some(m);
    }
    if modules.len() >= MAX_MODULE_TYPE {
        crate::skynet_error!(0, "error: too many C service modules (max {MAX_MODULE_TYPE}), can't load {name}");
        return None;
    }
    let module = open(name)?;
    let module: &'static Module = Box::leak(Box::new(module));
    modules.push(module);
    Some(module)
}

fn open(name: &str) -> Option<Module> {
    let templates = CPATH.get().map(Vec::as_slice).unwrap_or(&[]);
    // Report the failure of a file that exists (a missing symbol, say) over "no such file".
    let mut reported: Option<String> = None;
    let mut last = String::from("no cpath template");
    for template in templates {
        let path = template.replacen('?', name, 1);
        match dlopen(&path) {
            Ok(lib) => return bind(name, lib),
            Err(e) if reported.is_none() && std::path::Path::new(&path).exists() => reported = Some(e),
            Err(e) => last = e,
        }
    }
    crate::skynet_error!(0, "try open {name} failed : {}", reported.unwrap_or(last));
    None
}

fn dlopen(path: &str) -> Result<*mut c_void, String> {
    let cpath = CString::new(path).map_err(|_| format!("{path}: path contains NUL"))?;
    // SAFETY: valid C string; the library stays open for the process lifetime.
    let lib = unsafe { libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if lib.is_null() {
        Err(dlerror())
    } else {
        Ok(lib)
    }
}

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a valid C string owned by libc.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dlopen error".into()
    } else {
        // SAFETY: non-null, NUL-terminated.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

fn sym(lib: *mut c_void, prefix: &str, suffix: &str) -> *mut c_void {
    let Ok(name) = CString::new(format!("{prefix}{suffix}")) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `lib` is a live dlopen handle and `name` a valid C string.
    unsafe { libc::dlsym(lib, name.as_ptr()) }
}

/// Resolves the entry points; the symbol prefix is the part after the last `.`.
fn bind(name: &str, lib: *mut c_void) -> Option<Module> {
    let prefix = name.rsplit('.').next().unwrap_or(name);
    let init = sym(lib, prefix, "_init");
    if init.is_null() {
        crate::skynet_error!(0, "error: module {name} has no {prefix}_init");
        return None;
    }
    // SAFETY: the module contract fixes these symbols' signatures (reference §3).
    unsafe {
        let create = sym(lib, prefix, "_create");
        let release = sym(lib, prefix, "_release");
        let signal = sym(lib, prefix, "_signal");
        Some(Module {
            name: name.to_string(),
            create: (!create.is_null()).then(|| std::mem::transmute::<*mut c_void, CreateFn>(create)),
            init: std::mem::transmute::<*mut c_void, InitFn>(init),
            release: (!release.is_null()).then(|| std::mem::transmute::<*mut c_void, ReleaseFn>(release)),
            signal: (!signal.is_null()).then(|| std::mem::transmute::<*mut c_void, SignalFn>(signal)),
        })
    }
}

impl Module {
    /// A new instance; `~0` when the module has no `_create`; None if `_create` returned NULL.
    pub fn create(&self) -> Option<*mut c_void> {
        match self.create {
            // SAFETY: `_create` takes no arguments.
            Some(f) => {
                let inst = unsafe { f() };
                (!inst.is_null()).then_some(inst)
            }
            None => Some(usize::MAX as *mut c_void),
        }
    }

    /// Runs `_init(inst, ctx, parm)`; 0 means success.
    pub fn init(&self, inst: *mut c_void, ctx: *mut c_void, parm: Option<&CStr>) -> i32 {
        let parm = parm.map_or(std::ptr::null(), CStr::as_ptr);
        // SAFETY: the instance came from this module's `_create`; ctx is a live context.
        unsafe { (self.init)(inst, ctx, parm) }
    }

    /// Runs `_release(inst)` if the module has one.
    pub fn release(&self, inst: *mut c_void) {
        if let Some(f) = self.release {
            // SAFETY: called once per instance, when its context is dropped.
            unsafe { f(inst) }
        }
    }

    /// Runs `_signal(inst, sig)` if the module has one (on the caller's thread).
    pub fn signal(&self, inst: *mut c_void, sig: i32) {
        if let Some(f) = self.signal {
            // SAFETY: modules document `_signal` as callable concurrently with dispatch.
            unsafe { f(inst, sig) }
        }
    }
}
