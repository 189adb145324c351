/// The errors of one server's client, as `RetryingSender` builds them. Each server says its
/// failures in its own words and reads its own error body; the retry loop is the same for all.
public protocol ServerError: Error {
    /// What the client's requests are for, as far as its errors must tell (`Void`: nothing).
    associatedtype Purpose = Void
    /// No HTTP answer (connect, DNS, TLS, timeout, reset, a refused redirect, too large).
    static func transport(_ error: TransportError) -> Self
    /// A non-2xx answer to `request`, sent for `purpose`, read from the server's error body.
    static func answer(_ response: HTTPResponseData, to request: HTTPRequestSpec, for purpose: Purpose) -> Self
    /// Retries ran out; `last` is what kept failing.
    static func gaveUp(attempts: Int, last: Self) -> Self
    /// The server was given up on for the rest of the run.
    static func stopped(_ trip: CircuitTrip) -> Self
}

/// Sends requests over one keep-alive connection under the run's `RetryPolicy`: the one retry loop
/// of every remote call (Backstage and Port). A 2xx answer is returned; anything else ends as a
/// `Failure`, typed, after the policy's retries and within the run's budget for the server.
public struct RetryingSender<Failure: ServerError> {
    public let connection: HTTPConnection
    public let retry: RetryPolicy

    public init(connection: HTTPConnection, retry: RetryPolicy) {
        self.connection = connection
        self.retry = retry
    }

    /// One request, sent for `purpose`, under the policy. `onAttempt` hears each attempt before it
    /// is sent, `onResponse` each HTTP answer (any status), `onRetry` each wait before another
    /// attempt (for counters and progress output).
    public func send(_ request: HTTPRequestSpec, for purpose: Failure.Purpose, onAttempt: () -> Void = {},
                     onResponse: (HTTPResponseData) -> Void = { _ in },
                     onRetry: (_ attempt: Int, _ wait: Double, _ error: Failure) -> Void = { _, _, _ in }) throws -> HTTPResponseData {
        do {
            return try retry.run({ _ -> RetryPolicy.Attempt<HTTPResponseData> in
                onAttempt()
                let response: HTTPResponseData
                do throws(TransportError) {
                    response = try connection.send(request)
                } catch {
                    return error.isRetryable ? .unreachable(Failure.transport(error)) : .failure(Failure.transport(error))
                }
                onResponse(response)
                if (200..<300).contains(response.status) { return .success(response) }
                return RetryPolicy.attempt(status: response.status, error: Failure.answer(response, to: request, for: purpose),
                                           headers: response.headers)
            }, onRetry: { attempt, wait, error in
                // Every error an attempt returns is a `Failure`: the cast always holds.
                if let failure = error as? Failure { onRetry(attempt, wait, failure) }
            })
        } catch let exhausted as RetryExhausted {
            // Every error an attempt returns is a `Failure`, so `last` is one.
            guard let last = exhausted.last as? Failure else { throw exhausted }
            throw Failure.gaveUp(attempts: exhausted.attempts, last: last)
        } catch let trip as CircuitTrip {
            throw Failure.stopped(trip)
        }
    }
}

extension RetryingSender where Failure.Purpose == Void {
    /// One request of a client whose errors need no purpose.
    public func send(_ request: HTTPRequestSpec, onAttempt: () -> Void = {},
                     onRetry: (_ attempt: Int, _ wait: Double, _ error: Failure) -> Void = { _, _, _ in }) throws -> HTTPResponseData {
        try send(request, for: (), onAttempt: onAttempt, onRetry: onRetry)
    }
}
