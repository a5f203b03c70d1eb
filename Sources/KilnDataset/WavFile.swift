import Foundation

/// Minimal PCM s16 WAV reading and writing, for peak normalisation and silence.
///
/// Done in Swift rather than a second ffmpeg pass because the peak is only known after the
/// clip's audio has been cut, and rescaling a few hundred kilobytes is cheaper than a re-decode.
enum WavFile {
    /// Writes interleaved s16 samples as a canonical 44-byte-header WAV.
    static func write(_ samples: [Int16], channels: Int, sampleRate: Int, to url: URL) throws {
        var data = Data(capacity: 44 + samples.count * 2)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        let payload = UInt32(samples.count * 2)
        data.append(contentsOf: Array("RIFF".utf8)); u32(36 + payload)
        data.append(contentsOf: Array("WAVE".utf8))
        data.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(UInt16(channels))
        u32(UInt32(sampleRate)); u32(UInt32(sampleRate * channels * 2)); u16(UInt16(channels * 2)); u16(16)
        data.append(contentsOf: Array("data".utf8)); u32(payload)
        samples.withUnsafeBufferPointer { buffer in
            for s in buffer { withUnsafeBytes(of: s.littleEndian) { data.append(contentsOf: $0) } }
        }
        try data.write(to: url)
    }

    /// Reads a PCM s16 WAV: interleaved samples, channels and sample rate.
    static func read(_ url: URL) throws -> (samples: [Int16], channels: Int, sampleRate: Int) {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count >= 12, String(decoding: bytes[0..<4], as: UTF8.self) == "RIFF",
              String(decoding: bytes[8..<12], as: UTF8.self) == "WAVE" else {
            throw DatasetError.outputFailed(path: url.path, reason: "not a WAV file")
        }
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        var p = 12
        var channels = 0, rate = 0, bits = 0
        while p + 8 <= bytes.count {
            let id = String(decoding: bytes[p..<(p + 4)], as: UTF8.self)
            let size = u32(p + 4)
            let body = p + 8
            if id == "fmt " {
                channels = u16(body + 2); rate = u32(body + 4); bits = u16(body + 14)
            } else if id == "data" {
                guard bits == 16, channels > 0 else {
                    throw DatasetError.outputFailed(path: url.path, reason: "expected 16-bit PCM, found \(bits)-bit")
                }
                let end = min(bytes.count, body + size)
                var samples = [Int16](repeating: 0, count: (end - body) / 2)
                for i in samples.indices {
                    samples[i] = Int16(bitPattern: UInt16(bytes[body + 2 * i]) | UInt16(bytes[body + 2 * i + 1]) << 8)
                }
                return (samples, channels, rate)
            }
            p = body + size + (size & 1)
        }
        throw DatasetError.outputFailed(path: url.path, reason: "WAV without a data chunk")
    }

    /// Scales the file so its peak reaches `peak` (linear); returns false when it is silent.
    @discardableResult
    static func normalizePeak(_ url: URL, peak: Double) throws -> Bool {
        let (samples, channels, rate) = try read(url)
        let maxAbs = samples.reduce(0) { max($0, abs(Int($1))) }
        guard maxAbs > 0 else { return false }
        let gain = peak * 32767 / Double(maxAbs)
        let scaled = samples.map { Int16(clamping: Int((Double($0) * gain).rounded())) }
        try write(scaled, channels: channels, sampleRate: rate, to: url)
        return true
    }
}
