/// Seconds as messages state a limit: `30s`, `0.5s`, `0.25s` (whole seconds without a fraction,
/// others exactly as given). The one rule for the transport's and the mapping watchdog's limits;
/// a duration echoed as configuration (`1m30s`, `250ms`) is `DurationText`'s, which round-trips
/// through the config parser instead.
public enum SecondsText {
    public static func describe(_ seconds: Double) -> String {
        (seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : String(seconds)) + "s"
    }
}
