// OpenSSL's libcrypto (Debian's libssl-dev): only the EVP message digests are used, for
// SHA-256 and SHA-1 (Sources/Digests). It picks the SHA-NI / AVX2 code paths at run time.
#include <openssl/evp.h>
