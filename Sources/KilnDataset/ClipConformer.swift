import Foundation

/// One ffmpeg run: a stretch of one source (whole file or one scene) cut into consecutive windows.
struct SegmentJob: Sendable {
    /// How the samples of this segment get their audio.
    enum Audio: Sendable, Equatable {
        /// No audio files (audio off, or images).
        case none
        /// Cut from the source's audio stream.
        case source
        /// The source has no audio: silence of the clip's length.
        case silence
    }

    var sourcePath: String
    var file: URL
    var kind: MediaKind
    var probe: MediaProbe
    /// Start and length of the stretch in the source, seconds.
    var start: Double
    var length: Double
    /// Temporary file stems, one per window, in window order.
    var stems: [String]
    /// Multiplier applied to timestamps to fit one window (auto-scale); nil to keep timing.
    var timeScale: Double?
    var audio: Audio
}

/// Builds and runs the ffmpeg command that conforms a segment: decode once, scale to cover,
/// centre-crop, resample to the target rate, split into windows, encode each window, and cut
/// the matching audio, all in one process.
struct ClipConformer: Sendable {
    var tool: MediaTool
    var options: DatasetOptions
    /// Threads per ffmpeg process (decoder and encoder).
    var threads: Int

    /// Samples per audio file: exactly the clip's duration at `DatasetFormat.audioSampleRate`.
    var audioSamples: Int {
        Int((Double(options.numberOfFrames) * Double(DatasetFormat.audioSampleRate) / Double(options.frameRate)).rounded())
    }

    /// Scaled size that covers W x H while keeping the displayed aspect ratio.
    static func coverSize(displayWidth: Int, displayHeight: Int, width: Int, height: Int) -> (Int, Int) {
        let dw = Double(max(displayWidth, 1)), dh = Double(max(displayHeight, 1))
        let s = max(Double(width) / dw, Double(height) / dh)
        var sw = max(width, Int((dw * s - 1e-6).rounded(.up)))
        var sh = max(height, Int((dh * s - 1e-6).rounded(.up)))
        // Even sizes keep every chroma subsampling happy before the crop.
        sw += sw % 2; sh += sh % 2
        return (sw, sh)
    }

    /// Scale-to-cover, centre-crop and square pixels.
    func spatialFilter(_ probe: MediaProbe) -> String {
        let (sw, sh) = Self.coverSize(displayWidth: probe.displayWidth, displayHeight: probe.displayHeight,
                                      width: options.width, height: options.height)
        return "scale=\(sw):\(sh):flags=bicubic,crop=\(options.width):\(options.height),setsar=1"
    }

    /// Conforms the segment into `folder/<stem>.mp4|png` (+ `.wav`); returns warnings for the report.
    func conform(_ job: SegmentJob, into folder: URL) async throws(DatasetError) -> [String] {
        if job.kind == .image {
            let out = folder.appendingPathComponent(job.stems[0] + ".png").path
            _ = try await tool.ffmpeg(["-i", job.file.path, "-vf", spatialFilter(job.probe) + ",format=rgb24",
                                       "-frames:v", "1", "-update", "1", out], file: job.sourcePath)
            return []
        }
        let n = job.stems.count
        let frames = options.numberOfFrames
        let fps = options.frameRate
        let samples = audioSamples
        var graph: [String] = []
        var video = "[0:v]"
        if let scale = job.timeScale { video += "setpts=\(scale)*(PTS-STARTPTS)," }
        // tpad clones the last frame so the final window is always full, then trim cuts exact frames.
        video += "fps=\(fps),tpad=stop_mode=clone:stop=\(frames),\(spatialFilter(job.probe)),format=yuv420p"
        if n == 1 {
            graph.append(video + ",trim=end_frame=\(frames),setpts=PTS-STARTPTS[v0]")
        } else {
            graph.append(video + ",split=\(n)" + (0..<n).map { "[s\($0)]" }.joined())
            for k in 0..<n {
                graph.append("[s\(k)]trim=start_frame=\(k * frames):end_frame=\((k + 1) * frames),setpts=PTS-STARTPTS[v\(k)]")
            }
        }
        if job.audio == .source {
            var audio = "[0:a]aresample=\(DatasetFormat.audioSampleRate),aformat=sample_fmts=s16:channel_layouts=stereo"
            if let scale = job.timeScale {
                let tempo = 1 / scale
                if abs(tempo - 1) > 1e-3 {
                    audio += options.audioPreservePitch
                        ? ",rubberband=tempo=\(tempo)"
                        : ",asetrate=\(Double(DatasetFormat.audioSampleRate) * tempo),aresample=\(DatasetFormat.audioSampleRate)"
                }
            }
            audio += ",apad"
            if n == 1 {
                graph.append(audio + ",atrim=end_sample=\(samples)[a0]")
            } else {
                graph.append(audio + ",asplit=\(n)" + (0..<n).map { "[t\($0)]" }.joined())
                for k in 0..<n {
                    graph.append("[t\(k)]atrim=start_sample=\(k * samples):end_sample=\((k + 1) * samples),asetpts=N/SR/TB[a\(k)]")
                }
            }
        }
        var args = ["-threads", "\(threads)", "-ss", String(format: "%.6f", job.start), "-t", String(format: "%.6f", job.length),
                    "-i", job.file.path, "-filter_complex", graph.joined(separator: ";"), "-filter_complex_threads", "\(threads)"]
        for k in 0..<n {
            args += ["-map", "[v\(k)]", "-c:v", "libx264", "-preset", "fast", "-crf", "18", "-pix_fmt", "yuv420p",
                     "-r", "\(fps)", "-frames:v", "\(frames)", "-threads", "\(threads)", "-an", "-map_metadata", "-1",
                     "-movflags", "+faststart", folder.appendingPathComponent(job.stems[k] + ".mp4").path]
            if job.audio == .source {
                args += ["-map", "[a\(k)]", "-c:a", "pcm_s16le", "-ar", "\(DatasetFormat.audioSampleRate)", "-ac", "2",
                         "-map_metadata", "-1", "-bitexact", "-f", "wav", folder.appendingPathComponent(job.stems[k] + ".wav").path]
            }
        }
        _ = try await tool.ffmpeg(args, file: job.sourcePath)
        var warnings: [String] = []
        for (window, stem) in job.stems.enumerated() {
            let wav = folder.appendingPathComponent(stem + ".wav")
            do {
                switch job.audio {
                case .none: break
                case .silence:
                    try WavFile.write([Int16](repeating: 0, count: samples * DatasetFormat.audioChannels),
                                      channels: DatasetFormat.audioChannels, sampleRate: DatasetFormat.audioSampleRate, to: wav)
                case .source:
                    if options.audioNormalize, try !WavFile.normalizePeak(wav, peak: DatasetFormat.normalizedPeak) {
                        warnings.append("window \(window): audio is silent")
                    }
                }
            } catch {
                throw .outputFailed(path: wav.path, reason: "\(error)")
            }
        }
        return warnings
    }
}
