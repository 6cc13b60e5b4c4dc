/// The shape of a vhci-hcd: how many virtual host controllers, each with how many ports.
///
/// Every controller carries two root hubs, one high-speed and one super-speed, each with
/// `portsPerController` ports, so the driver's `nports` is `2 * portsPerController * controllers`:
///
/// ```
///  vhci_hcd.0 ─┬─ USB2 root hub: ports 0 .. HC_PORTS-1          ┐
///              └─ USB3 root hub: ports HC_PORTS .. 2*HC_PORTS-1 ┘ x VHCI_NR_HCS controllers
/// ```
public struct VHCIPorts: Equatable, Sendable, CustomStringConvertible {
    /// `USB_SS_MAXPORTS`: Kconfig caps `CONFIG_USBIP_VHCI_HC_PORTS` at 15.
    public static let maxPortsPerController = 15
    /// Kconfig caps `CONFIG_USBIP_VHCI_NR_HCS` at 128.
    public static let maxControllers = 128
    /// The most ports any vhci-hcd can have: 2 * 15 * 128 = 3840.
    public static let maxTotal = 2 * maxPortsPerController * maxControllers

    /// `VHCI_HC_PORTS`: ports per root hub.
    public let portsPerController: Int
    /// `VHCI_NR_HCS`: virtual host controllers (`vhci_hcd.0` .. `vhci_hcd.N-1`).
    public let controllers: Int

    public init(portsPerController: Int, controllers: Int) {
        self.portsPerController = portsPerController
        self.controllers = controllers
    }

    /// What `/sys/devices/platform/vhci_hcd.0/nports` reports: high-speed and super-speed
    /// ports counted apart.
    public var total: Int { 2 * portsPerController * controllers }

    /// The smallest shape with 15 ports per controller that gives at least `needed` ports.
    public static func covering(_ needed: Int) throws(ClientRecipeError) -> VHCIPorts {
        guard needed >= 1, needed <= maxTotal else { throw .portsOutOfRange(needed) }
        let perController = 2 * maxPortsPerController
        return VHCIPorts(portsPerController: maxPortsPerController,
                         controllers: (needed + perController - 1) / perController)
    }

    /// `15x10`: ports per controller x controllers.
    public var description: String { "\(portsPerController)x\(controllers)" }
}
