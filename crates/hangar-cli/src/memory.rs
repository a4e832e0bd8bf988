//! How the server process gets its memory from the C allocator.

/// Fixes glibc's mmap threshold at its initial 128 KiB, so that every larger block (upload
/// buffers, read chunks, database pages) is mapped on its own and given back to the system
/// when freed. By default glibc raises the threshold to the size of each large block freed,
/// up to 32 MiB; after the first upload, blocks of 1-8 MiB then come from its arenas, which
/// keep their pages: under 200 concurrent clients the server's RSS climbed to twice the memory
/// it had in use and stayed there (see scripts/bench-load).
pub fn give_back_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator parameter; it is called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}
