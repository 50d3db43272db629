//! Socket addresses: name resolution, text forms ("ip" and "ip:port") and the binary UDP
//! address format of skynet_socket.h (protocol byte, port, IP, all in network order).

use std::ffi::{c_char, CStr};
use std::mem::{size_of, zeroed};
use std::os::fd::RawFd;

/// UDP address protocol byte for IPv4.
const UDP_V4: u8 = 1;
/// UDP address protocol byte for IPv6.
const UDP_V6: u8 = 2;
/// Protocol byte + port + IPv4 address.
const UDP_V4_LEN: usize = 1 + 2 + 4;
/// Protocol byte + port + IPv6 address.
const UDP_V6_LEN: usize = 1 + 2 + 16;

/// Room for the text of any IP address (netinet/in.h).
const INET6_ADDRSTRLEN: usize = 46;

extern "C" {
    // Not bound by the libc crate; used for upstream's exact address text.
    fn inet_ntop(af: libc::c_int, src: *const libc::c_void, dst: *mut c_char, size: libc::socklen_t) -> *const c_char;
}

/// Any socket address the kernel gives or takes.
#[derive(Clone, Copy)]
pub(super) struct SockAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl SockAddr {
    /// An empty address for the kernel to fill (accept, recvfrom, getsockname).
    pub(super) fn empty() -> SockAddr {
        // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid (AF_UNSPEC) value.
        let storage = unsafe { zeroed() };
        SockAddr { storage, len: size_of::<libc::sockaddr_storage>() as libc::socklen_t }
    }

    /// Copies `len` bytes of a kernel-provided address.
    ///
    /// # Safety
    /// `addr` must point to `len` readable bytes of a socket address.
    unsafe fn from_raw(addr: *const libc::sockaddr, len: libc::socklen_t) -> SockAddr {
        let mut out = SockAddr::empty();
        let len = (len as usize).min(size_of::<libc::sockaddr_storage>());
        // SAFETY: the caller guarantees the source; the destination is our own storage.
        unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, out.as_mut_ptr() as *mut u8, len) };
        out.len = len as libc::socklen_t;
        out
    }

    /// The address as the kernel takes it.
    pub(super) fn as_ptr(&self) -> *const libc::sockaddr {
        &self.storage as *const libc::sockaddr_storage as *const libc::sockaddr
    }

    /// The address as the kernel fills it.
    pub(super) fn as_mut_ptr(&mut self) -> *mut libc::sockaddr {
        &mut self.storage as *mut libc::sockaddr_storage as *mut libc::sockaddr
    }

    /// The length of the address (in/out for the kernel).
    pub(super) fn len(&self) -> libc::socklen_t {
        self.len
    }

    /// Where the kernel stores the filled length.
    pub(super) fn len_mut(&mut self) -> &mut libc::socklen_t {
        &mut self.len
    }

    /// The address family (AF_INET, AF_INET6, ...).
    pub(super) fn family(&self) -> i32 {
        self.storage.ss_family as i32
    }

    /// The IPv4 view, if that is what this is.
    fn v4(&self) -> Option<&libc::sockaddr_in> {
        // SAFETY: sockaddr_storage is larger and more aligned than sockaddr_in; the family
        // says the bytes are one.
        (self.family() == libc::AF_INET).then(|| unsafe { &*(self.as_ptr() as *const libc::sockaddr_in) })
    }

    /// The IPv6 view, if that is what this is.
    fn v6(&self) -> Option<&libc::sockaddr_in6> {
        // SAFETY: as in `v4`, for sockaddr_in6.
        (self.family() == libc::AF_INET6).then(|| unsafe { &*(self.as_ptr() as *const libc::sockaddr_in6) })
    }

    /// The port in host order (0 for other families).
    pub(super) fn port(&self) -> u16 {
        match (self.v4(), self.v6()) {
            (Some(a), _) => u16::from_be(a.sin_port),
            (_, Some(a)) => u16::from_be(a.sin6_port),
            _ => 0,
        }
    }

    /// The IP as inet_ntop prints it, None for other families.
    pub(super) fn ip(&self) -> Option<String> {
        let (family, addr) = match (self.v4(), self.v6()) {
            (Some(a), _) => (libc::AF_INET, &a.sin_addr as *const libc::in_addr as *const libc::c_void),
            (_, Some(a)) => (libc::AF_INET6, &a.sin6_addr as *const libc::in6_addr as *const libc::c_void),
            _ => return None,
        };
        let mut text: [c_char; INET6_ADDRSTRLEN] = [0; INET6_ADDRSTRLEN];
        // SAFETY: `addr` points into our storage and matches `family`; the buffer is
        // INET6_ADDRSTRLEN long, enough for either family, and inet_ntop NUL-terminates it.
        let ok = unsafe { inet_ntop(family, addr, text.as_mut_ptr(), text.len() as libc::socklen_t) };
        if ok.is_null() {
            return None;
        }
        // SAFETY: inet_ntop succeeded, so `text` holds a NUL-terminated string.
        Some(unsafe { CStr::from_ptr(text.as_ptr()) }.to_string_lossy().into_owned())
    }

    /// "ip:port" (no brackets around IPv6, as upstream), or "" for other families.
    pub(super) fn name(&self) -> String {
        self.ip().map(|ip| format!("{ip}:{}", self.port())).unwrap_or_default()
    }

    /// The peer of a connected socket.
    pub(super) fn peer_of(fd: RawFd) -> Option<SockAddr> {
        let mut addr = SockAddr::empty();
        // SAFETY: the out-pointers are our own storage and its length.
        let r = unsafe { libc::getpeername(fd, addr.as_mut_ptr(), addr.len_mut()) };
        (r == 0).then_some(addr)
    }

    /// The local address of a socket.
    pub(super) fn local_of(fd: RawFd) -> Result<SockAddr, i32> {
        let mut addr = SockAddr::empty();
        // SAFETY: as in `peer_of`.
        let r = unsafe { libc::getsockname(fd, addr.as_mut_ptr(), addr.len_mut()) };
        if r == 0 {
            Ok(addr)
        } else {
            Err(super::sys::errno())
        }
    }

    /// The binary UDP form of this address, None for other families.
    pub(super) fn udp_address(&self) -> Option<UdpAddress> {
        let mut bytes = [0u8; UDP_V6_LEN];
        let len = match (self.v4(), self.v6()) {
            (Some(a), _) => {
                bytes[0] = UDP_V4;
                bytes[1..3].copy_from_slice(&a.sin_port.to_ne_bytes());
                bytes[3..7].copy_from_slice(&a.sin_addr.s_addr.to_ne_bytes());
                UDP_V4_LEN
            }
            (_, Some(a)) => {
                bytes[0] = UDP_V6;
                bytes[1..3].copy_from_slice(&a.sin6_port.to_ne_bytes());
                bytes[3..19].copy_from_slice(&a.sin6_addr.s6_addr);
                UDP_V6_LEN
            }
            _ => return None,
        };
        Some(UdpAddress { bytes, len: len as u8 })
    }

    /// The socket address a binary UDP address stands for.
    pub(super) fn from_udp(udp: &UdpAddress) -> SockAddr {
        let mut out = SockAddr::empty();
        let b = &udp.bytes;
        let port = u16::from_ne_bytes([b[1], b[2]]);
        if udp.protocol() == UdpProtocol::V4 {
            // SAFETY: all-zero sockaddr_in is valid; the cast stays within our storage.
            let a = unsafe { &mut *(out.as_mut_ptr() as *mut libc::sockaddr_in) };
            a.sin_family = libc::AF_INET as libc::sa_family_t;
            a.sin_port = port;
            a.sin_addr.s_addr = u32::from_ne_bytes([b[3], b[4], b[5], b[6]]);
            out.len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        } else {
            // SAFETY: as above, for sockaddr_in6.
            let a = unsafe { &mut *(out.as_mut_ptr() as *mut libc::sockaddr_in6) };
            a.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            a.sin6_port = port;
            a.sin6_addr.s6_addr.copy_from_slice(&b[3..19]);
            out.len = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        }
        out
    }
}

/// The IP version a UDP socket (and its binary addresses) speaks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum UdpProtocol {
    V4,
    V6,
}

impl UdpProtocol {
    /// The protocol of sockets of an address family.
    pub(super) fn of_family(family: i32) -> UdpProtocol {
        if family == libc::AF_INET6 {
            UdpProtocol::V6
        } else {
            UdpProtocol::V4
        }
    }
}

/// A UDP address in skynet's binary form: 7 bytes (IPv4) or 19 bytes (IPv6).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct UdpAddress {
    bytes: [u8; UDP_V6_LEN],
    len: u8,
}

impl UdpAddress {
    /// Reads the address at the start of `raw` (longer input is fine, as C passes a bare
    /// pointer); None if the protocol byte is unknown or `raw` is too short.
    pub(super) fn parse(raw: &[u8]) -> Option<UdpAddress> {
        let len = Self::len_for(*raw.first()?)?;
        let mut bytes = [0u8; UDP_V6_LEN];
        bytes[..len].copy_from_slice(raw.get(..len)?);
        Some(UdpAddress { bytes, len: len as u8 })
    }

    /// The encoded length for a protocol byte.
    pub(super) fn len_for(protocol: u8) -> Option<usize> {
        match protocol {
            UDP_V4 => Some(UDP_V4_LEN),
            UDP_V6 => Some(UDP_V6_LEN),
            _ => None,
        }
    }

    /// The encoded bytes.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// IPv4 or IPv6.
    pub(super) fn protocol(&self) -> UdpProtocol {
        if self.bytes[0] == UDP_V6 {
            UdpProtocol::V6
        } else {
            UdpProtocol::V4
        }
    }
}

/// What a resolved address will be used for.
#[derive(Clone, Copy)]
pub(super) enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    /// SOCK_STREAM or SOCK_DGRAM.
    pub(super) fn socktype(self) -> i32 {
        match self {
            Transport::Tcp => libc::SOCK_STREAM,
            Transport::Udp => libc::SOCK_DGRAM,
        }
    }

    fn protocol(self) -> i32 {
        match self {
            Transport::Tcp => libc::IPPROTO_TCP,
            Transport::Udp => libc::IPPROTO_UDP,
        }
    }
}

/// The result of getaddrinfo, freed on drop.
pub(super) struct AddrList(*mut libc::addrinfo);

/// Resolves `host` (AF_UNSPEC, as upstream) for `port`; the error is gai_strerror's text.
pub(super) fn resolve(host: &CStr, port: i32, transport: Transport) -> Result<AddrList, String> {
    // Port numbers are plain decimal; a NUL can't occur in a formatted integer.
    let port = std::ffi::CString::new(port.to_string()).unwrap_or_default();
    // SAFETY: all-zero addrinfo is the documented way to start the hints.
    let mut hints: libc::addrinfo = unsafe { zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = transport.socktype();
    hints.ai_protocol = transport.protocol();
    let mut list = std::ptr::null_mut();
    // SAFETY: valid C strings and hints; `list` receives a list we free in Drop.
    let status = unsafe { libc::getaddrinfo(host.as_ptr(), port.as_ptr(), &hints, &mut list) };
    if status != 0 {
        return Err(gai_error(status));
    }
    Ok(AddrList(list))
}

/// gai_strerror's text for a getaddrinfo status.
fn gai_error(status: i32) -> String {
    // SAFETY: gai_strerror returns a static NUL-terminated string for any status.
    unsafe { CStr::from_ptr(libc::gai_strerror(status)) }.to_string_lossy().into_owned()
}

impl AddrList {
    /// The addresses in resolver order.
    pub(super) fn iter(&self) -> impl Iterator<Item = SockAddr> + '_ {
        let mut node = self.0;
        std::iter::from_fn(move || loop {
            // SAFETY: `node` walks the list getaddrinfo returned, which lives until Drop.
            let ai = unsafe { node.as_ref()? };
            node = ai.ai_next;
            if !ai.ai_addr.is_null() {
                // SAFETY: a non-NULL ai_addr points to ai_addrlen bytes of address.
                return Some(unsafe { SockAddr::from_raw(ai.ai_addr, ai.ai_addrlen) });
            }
        })
    }
}

impl Drop for AddrList {
    fn drop(&mut self) {
        // SAFETY: the list came from a successful getaddrinfo and is freed once.
        unsafe { libc::freeaddrinfo(self.0) };
    }
}
