import LabConfig
import Mustache
import Overlay

/// Turns a lab config into the client package of DESIGN.md section 7: a DKMS source tree for a
/// vhci-hcd with enough ports for `client.ports`, its install script, the client udev rule
/// and the kernel config fragment for people who build their own kernel.
///
/// The result is an ``Overlay`` whose paths are relative to the output directory:
///
/// ```
/// OUT/
///   dkms.conf  Kbuild  Makefile   the DKMS package fpga-lab-vhci-hcd (module vhci-hcd.ko)
///   fpga_lab_version.c            MODULE_VERSION("15xN"): DKMS replaces the stock module
///   prepare.sh                    PRE_BUILD: copies vhci sources from linux-source-X.Y, sets ports
///   install.sh                    checks the kernel's ports, then builds/installs (or does nothing)
///   99-fpga-lab-client.rules      /dev/fpga/<name> for each board's tty
///   vhci-hcd.config               CONFIG_USBIP_* fragment for a self-built kernel
///   README.txt
/// ```
public struct ClientRecipe: Sendable {
    /// The DKMS package name (`PACKAGE_NAME` in dkms.conf).
    public static let packageName = "fpga-lab-vhci-hcd"
    /// Where the kernel config fragment comes from in the embedded data.
    public static let kernelConfigTemplate = "kernel-configs/vhci-hcd.config.mustache"

    /// Each generated file, its template under `templates/client/` and its mode.
    static let files: [(path: String, template: String, mode: UInt16)] = [
        ("dkms.conf", "client/dkms.conf", 0o644),
        ("Kbuild", "client/Kbuild", 0o644),
        ("Makefile", "client/Makefile", 0o644),
        ("fpga_lab_version.c", "client/fpga_lab_version.c", 0o644),
        ("prepare.sh", "client/prepare.sh", 0o755),
        ("install.sh", "client/install.sh", 0o755),
        ("99-fpga-lab-client.rules", "client/99-fpga-lab-client.rules", 0o644),
        ("README.txt", "client/README.txt", 0o644),
    ]

    let store: TemplateStore

    public init(store: TemplateStore) { self.store = store }

    /// The package for `lab`. `kernelSourceVersion` (`6.1`) pins the linux-source package the
    /// sources come from; without it, prepare.sh derives `X.Y` from the kernel being built for.
    public func render(_ lab: Lab, kernelSourceVersion: String? = nil) throws(ClientRecipeError) -> Overlay {
        guard let client = lab.client else { throw .noClientSection }
        if let version = kernelSourceVersion,
           version.wholeMatch(of: /[0-9]+\.[0-9]+(\.[0-9]+)?/) == nil {
            throw .badKernelSourceVersion(version)
        }
        let ports = try VHCIPorts.covering(client.ports)
        let context = Self.context(lab, client: client, ports: ports, kernelSourceVersion: kernelSourceVersion)
        var overlay = Overlay()
        for file in Self.files {
            do {
                try overlay.addFile(file.path, try store.render(file.template, context), mode: file.mode)
            } catch {
                throw .template(file.template, "\(error)")
            }
        }
        let config = try kernelConfig(context)
        do { try overlay.addFile("vhci-hcd.config", config) } catch { throw .template(Self.kernelConfigTemplate, "\(error)") }
        return overlay
    }

    /// The DKMS `PACKAGE_VERSION`: the port shape, so a lab that needs more ports installs as
    /// a new version beside the old one.
    public static func packageVersion(_ ports: VHCIPorts) -> String { "\(ports)" }

    func kernelConfig(_ context: [String: Any]) throws(ClientRecipeError) -> String {
        let key = Self.kernelConfigTemplate
        guard let source = store.files[key] else { throw .missingData(key) }
        do {
            return try MustacheTemplate(string: source).render(context)
        } catch {
            throw .template(key, "\(error)")
        }
    }

    static func context(_ lab: Lab, client: Client, ports: VHCIPorts, kernelSourceVersion: String?) -> [String: Any] {
        var context: [String: Any] = [
            "lab": lab.name,
            "package": packageName,
            "version": packageVersion(ports),
            "neededPorts": client.ports,
            "hcPorts": ports.portsPerController,
            "nrHCs": ports.controllers,
            "totalPorts": ports.total,
            "kernelSourceVersion": kernelSourceVersion ?? "",
            "rules": ClientUdevRules.rules(for: lab.devices),
        ]
        if let server = client.server { context["server"] = server }
        return context
    }
}
