import FPGALabCLI

/// The `fpga-lab` executable: everything lives in FPGALabCLI.
@main
struct Main {
    static func main() {
        FPGALab.main()
    }
}
