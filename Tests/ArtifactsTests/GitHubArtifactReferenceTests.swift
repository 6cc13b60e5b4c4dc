import Artifacts
import Foundation
import Testing

/// `gh:OWNER/REPO[#RUN_ID|@ARTIFACT_ID]` and the API's artifact objects.
@Suite struct GitHubArtifactReferenceTests {
    @Test func parsesTheThreeForms() throws {
        let newest = try GitHubArtifactReference(parsing: "gh:my-lab/fpga.images")
        #expect(newest.owner == "my-lab" && newest.repository == "fpga.images" && newest.selector == .newest)
        #expect(try GitHubArtifactReference(parsing: "gh:o/r#123").selector == .run(123))
        #expect(try GitHubArtifactReference(parsing: "gh:o/r@9876543210").selector == .artifact(9_876_543_210))
        for text in ["gh:o/r", "gh:o/r#1", "gh:o/r@2"] {
            #expect(try GitHubArtifactReference(parsing: text).description == text)
        }
    }

    @Test(arguments: ["gh:", "gh:o", "gh:o/", "gh:/r", "gh:o/r/x", "gh:o/r#", "gh:o/r@", "gh:o/r#0", "gh:o/r#-1", "gh:o/r#1x",
                      "gh:o/r#١٢", "gh:o/r#99999999999999999999", "gh:o_x/r", "gh:o/..", "gh:o/r s", "gh:o/r#1@2"])
    func refusesMalformedReferences(_ text: String) {
        #expect(throws: GitHubArtifactError.self) { try GitHubArtifactReference(parsing: text) }
    }

    @Test func onlyGhPrefixedArgumentsAreReferences() {
        #expect(GitHubArtifactReference.isReference("gh:o/r"))
        #expect(!GitHubArtifactReference.isReference("./gh:o/r"))
        #expect(!GitHubArtifactReference.isReference("https://api.github.com/repos/o/r"))
    }
}
