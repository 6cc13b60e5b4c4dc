/// The Raspberry Pi model the server runs on, as named in `server.board`.
///
/// What matters to fpga-lab is which USB controller drives the USB-A ports: boards with the
/// Synopsys `dwc_otg` controller (Pi 0/1/2/3, CM3) need `dtoverlay=dwc2,dr_mode=host`, because
/// the downstream `dwc_otg` driver crashes under USB/IP load. Pi 4/400/5 and CM4/CM5 drive their
/// ports through xHCI and are left alone.
public enum Board: String, CaseIterable, Sendable {
    case pi0, pi0w, pi02, pi1, pi2, pi3
    case pi3plus = "pi3+"
    case pi4, pi400, pi5, cm3, cm4, cm5
    /// Unknown at render time: the image must work on any model.
    case auto

    /// The concrete models, i.e. every case but `auto`.
    public static var models: [Board] { allCases.filter { $0 != .auto } }

    /// True when the USB host ports hang off the `dwc_otg` controller.
    public var hasDwcOtg: Bool {
        switch self {
        case .pi0, .pi0w, .pi02, .pi1, .pi2, .pi3, .pi3plus, .cm3: true
        case .pi4, .pi400, .pi5, .cm4, .cm5, .auto: false
        }
    }

    /// The boards the dwc2 change is made for: this one, or every dwc_otg model for `auto`.
    public var dwc2Targets: [Board] {
        self == .auto ? Board.models.filter(\.hasDwcOtg) : (hasDwcOtg ? [self] : [])
    }

    /// Whether this model applies the lines under a model filter such as `[pi3]` or `[cm4]`
    /// (see "Conditional filters" in Raspberry Pi's config.txt documentation): a 3B+ also sees
    /// `[pi3]`, a 400 and a CM4 also see `[pi4]`, a CM5 also sees `[pi5]`, every Zero sees `[pi0]`.
    public func matchesModelFilter(_ filter: String) -> Bool {
        switch filter.lowercased() {
        case "pi0": [.pi0, .pi0w, .pi02].contains(self)
        case "pi0w": self == .pi0w
        case "pi02": self == .pi02
        case "pi1": self == .pi1
        case "pi2": self == .pi2
        case "pi3": [.pi3, .pi3plus, .cm3].contains(self)
        case "pi3+": self == .pi3plus
        case "pi4": [.pi4, .pi400, .cm4].contains(self)
        case "pi400": self == .pi400
        case "cm4": self == .cm4
        case "pi5": [.pi5, .cm5].contains(self)
        case "cm5": self == .cm5
        default: false
        }
    }

    /// The model filter under which fpga-lab writes this board's dwc2 lines: the narrowest
    /// filter that still holds the board (there is no `[cm3]` filter; CM3 is seen as `[pi3]`).
    public var configFilter: String {
        switch self {
        case .cm3: "pi3"
        default: rawValue
        }
    }

    /// The filter names the firmware knows as model filters (they replace each other).
    public static let modelFilterNames: Set<String> = [
        "pi0", "pi0w", "pi02", "pi1", "pi2", "pi3", "pi3+", "pi4", "pi400", "pi5", "pi500",
        "cm4", "cm4s", "cm5", "board-type",
    ]
}
