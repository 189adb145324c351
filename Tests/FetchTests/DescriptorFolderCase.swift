import Foundation
import XCTest

/// A test case with a fresh folder per test to write descriptor files in (removed afterwards),
/// and a valid Component descriptor to start from.
class DescriptorFolderCase: XCTestCase {
    var folder: URL!

    /// `component:default/svc`, owned by `team`.
    let component = """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: svc
        spec:
          type: service
          lifecycle: production
          owner: team
        """

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes `text` to `name` (relative to the folder, parents created) and returns the absolute path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.standardizedFileURL.path
    }
}
