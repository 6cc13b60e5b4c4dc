/// Why a client recipe cannot be written.
public enum ClientRecipeError: Error, Equatable, CustomStringConvertible {
    /// The lab config has no `client:` section, so the number of ports is unknown.
    case noClientSection
    /// More ports than any vhci-hcd can have, or fewer than one.
    case portsOutOfRange(Int)
    /// `--kernel-source-version` is not `X.Y` (or `X.Y.Z`).
    case badKernelSourceVersion(String)
    /// A data file that the build embeds is missing.
    case missingData(String)
    /// A template did not render.
    case template(String, String)

    public var description: String {
        switch self {
        case .noClientSection:
            "the lab config has no client: section; add one (client: {ports: N}) to say how many vhci ports the client needs"
        case .portsOutOfRange(let ports):
            "client.ports \(ports) is outside 1...\(VHCIPorts.maxTotal) (\(VHCIPorts.maxPortsPerController) ports x \(VHCIPorts.maxControllers) controllers x 2 speeds)"
        case .badKernelSourceVersion(let text):
            "kernel source version \"\(text)\" is not X.Y or X.Y.Z (as in linux-source-6.1)"
        case .missingData(let path):
            "built-in data file \(path) is missing"
        case .template(let name, let problem):
            "template \(name): \(problem)"
        }
    }
}
