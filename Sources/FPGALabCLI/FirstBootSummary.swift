import BootFiles
import Overlay

/// How an image boots the first time, in `build-image --json` and `inspect --json`.
struct FirstBootSummary: Encodable {
    /// `cloud-init`, `userconf-pi` or `none`.
    var kind: String
    /// `NetworkManager`, `systemd-networkd` or `none`.
    var network: String
    /// uid 1000's name and login shell, when the image has one.
    var firstUser: String?
    var firstUserShell: String?
    /// The one-line summary the text output prints.
    var summary: String

    init(_ firstBoot: FirstBoot) {
        kind = firstBoot.kind.rawValue
        network = firstBoot.network.rawValue
        firstUser = firstBoot.firstUser?.name
        firstUserShell = firstBoot.firstUser?.shell
        summary = firstBoot.summary
    }
}
