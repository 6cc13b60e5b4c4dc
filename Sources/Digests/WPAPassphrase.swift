import CCrypto

/// WPA2-Personal's pre-shared key from a passphrase (IEEE 802.11i-2004 H.4):
/// PBKDF2-HMAC-SHA1(passphrase, ssid, 4096 rounds, 32 bytes), as `wpa_passphrase` and
/// Raspberry Pi Imager compute it; the 64 hex digits stand for the passphrase in network
/// configs, so the passphrase itself is not written into the image.
public enum WPAPassphrase {
    public static func psk(passphrase: String, ssid: [UInt8]) -> String {
        let pass = Array(passphrase.utf8)
        var out = [UInt8](repeating: 0, count: 32)
        let ok = pass.withUnsafeBufferPointer { p in
            ssid.withUnsafeBufferPointer { s in
                PKCS5_PBKDF2_HMAC_SHA1(p.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, Int32(p.count),
                                       s.baseAddress, Int32(s.count), 4096, Int32(out.count), &out)
            }
        }
        precondition(ok == 1, "libcrypto's PKCS5_PBKDF2_HMAC_SHA1 failed")
        return Hex.encode(out)
    }
}
