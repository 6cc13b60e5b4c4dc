// OpenSSL's libcrypto (Debian's libssl-dev): the EVP message digests, for
// SHA-256 and SHA-1, and PBKDF2-HMAC-SHA1 for WPA pre-shared keys (Sources/Digests). It picks the
// SHA-NI / AVX2 code paths at run time.
#include <openssl/evp.h>
