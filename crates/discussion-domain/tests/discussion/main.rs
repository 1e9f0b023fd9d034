//! Integration tests of the discussion engine and service, driven through the public
//! API with a scriptable fake provider ([`support`]). One test binary (modules below)
//! keeps build and link time down.

mod concurrency;
mod consensus;
mod faults;
mod patterns;
mod progress;
mod service;
mod spans;
mod support;
