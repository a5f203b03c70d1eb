/// What a training run costs, using fal's published price for this endpoint.
public enum Pricing {
    /// USD charged per training step.
    public static let usdPerStep: Double = 0.0048

    /// The price estimate for `steps` training steps, in USD, rounded to 1/10000 of a cent
    /// so that `0.0048 * 2000` reads `9.6` and not `9.600000000000001`.
    public static func estimate(steps: Int) -> Double {
        (Double(steps) * usdPerStep * 1_000_000).rounded() / 1_000_000
    }
}
