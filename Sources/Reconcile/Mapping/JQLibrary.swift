/// The libjq this process runs. libjq 1.6 exports no version call, so it is named by its file
/// (`libjq.so.1.0.4`), the same identity compiled mappings are recorded under.
public enum JQLibrary {
    public static var identity: String { JQProgram.libraryIdentity }
}
