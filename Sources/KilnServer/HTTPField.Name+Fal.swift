import HTTPTypes

extension HTTPField.Name {
    /// `x-fal-request-id`: the job a queue answer is about. Built once, not per response.
    static let falRequestID = HTTPField.Name("x-fal-request-id")!
    /// `x-fal-error-type`: the `error_type` of an error answer, which fal_client surfaces.
    static let falErrorType = HTTPField.Name("x-fal-error-type")!
    /// `x-accel-buffering: no` keeps reverse proxies from holding back SSE events.
    static let accelBuffering = HTTPField.Name("x-accel-buffering")!
}
