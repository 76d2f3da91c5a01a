// Loading OpenSSL 3's algorithm implementations before the roles fork.
//
// OpenSSL 3.0 builds its tables of algorithm implementations (key
// management, encoders and decoders, signatures, ciphers) the first time
// each kind is used in a process. The keys, signer and net roles each used
// to pay that separately after the fork: under callgrind, the first P-256
// key generation in a process costs about 9.6 M instructions and every
// later one 0.3 M; the first PEM key decode 11 M and every later one 4.4 M.
// Paying it once in the parent, before the roles start, lets every role
// inherit the filled tables through fork's copy-on-write memory.
#ifndef BULKHEAD_CRYPTO_WARMUP_H_
#define BULKHEAD_CRYPTO_WARMUP_H_

namespace bulkhead::crypto {

// WarmUpBeforeFork generates a throwaway P-256 key, signs and verifies one
// digest with it, and creates and frees one TLS client context. (A PEM
// round trip as well was measured: no gain, as the signer that decodes PEM
// is not on the critical path, while the parent is.) Nothing is kept but
// OpenSSL's own tables. The throwaway key never leaves the process and is
// freed before this returns. Failures are ignored: this
// only moves work earlier, and any real failure will show where the work is
// done for real.
//
// The random generator is safe across fork: OpenSSL 3 reseeds a DRBG when
// it sees a different process id, which crypto's tests check.
void WarmUpBeforeFork();

}  // namespace bulkhead::crypto

#endif  // BULKHEAD_CRYPTO_WARMUP_H_
