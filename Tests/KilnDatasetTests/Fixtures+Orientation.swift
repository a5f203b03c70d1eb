import Foundation

extension Fixtures {
    /// Python that writes a JPEG which DISPLAYS as `W`x`H`, red in the top-left quarter of
    /// each side and blue elsewhere, stored pre-transformed for an EXIF orientation so that
    /// only a viewer honouring the tag sees it upright.
    /// Arguments: output path, orientation 1-8, and `corrupt` to write a broken Exif block.
    private static let orientedJPEGScript = #"""
import struct, subprocess, sys
path, o, corrupt = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "corrupt"
W, H = int(sys.argv[4]), int(sys.argv[5])
w, h = (W, H) if o <= 4 else (H, W)
# Where stored pixel (x, y) lands on screen once the orientation is applied.
place = {1: lambda x, y: (x, y), 2: lambda x, y: (W-1-x, y), 3: lambda x, y: (W-1-x, H-1-y),
         4: lambda x, y: (x, H-1-y), 5: lambda x, y: (y, x), 6: lambda x, y: (W-1-y, x),
         7: lambda x, y: (W-1-y, H-1-x), 8: lambda x, y: (y, H-1-x)}[o]
pixels = bytearray()
for y in range(h):
    for x in range(w):
        X, Y = place(x, y)
        pixels += bytes([255, 0, 0]) if X < W // 4 and Y < H // 4 else bytes([0, 0, 255])
ppm = b"P6\n%d %d\n255\n" % (w, h) + pixels
# 4:4:4 keeps the sharp red/blue edge free of chroma bleed.
jpeg = subprocess.run(["ffmpeg", "-v", "error", "-f", "image2pipe", "-c:v", "ppm", "-i", "-", "-c:v", "mjpeg",
                       "-q:v", "2", "-pix_fmt", "yuvj444p", "-f", "image2pipe", "-"],
                      input=ppm, capture_output=True, check=True).stdout
if corrupt:
    # The IFD claims 40 entries but the segment ends after the first: decoders must give up on it.
    tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 40) + struct.pack(">HHIHH", 0x0112, 3, 1, o, 0)
else:
    tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, o, 0) + struct.pack(">I", 0)
app1 = b"Exif\x00\x00" + tiff
assert jpeg[:2] == b"\xff\xd8"
open(path, "wb").write(jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:])
"""#

    /// Writes a JPEG that displays as `width`x`height` with a red top-left corner on blue,
    /// stored for EXIF `orientation`; `corruptExif` writes an Exif block no decoder can read.
    static func orientedJPEG(_ url: URL, orientation: Int, corruptExif: Bool = false,
                             width: Int = 64, height: Int = 32) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try python(orientedJPEGScript, [url.path, "\(orientation)", corruptExif ? "corrupt" : "valid", "\(width)", "\(height)"])
    }

    /// The first frame of `url` decoded by ffmpeg as packed RGB, row by row.
    struct RGBFrame: CustomStringConvertible {
        var width: Int
        var height: Int
        var bytes: [UInt8]
        // Keeps failure messages to one line instead of every byte.
        var description: String { "\(width)x\(height) rgb24 frame" }

        /// Red wins clearly over blue at (x, y).
        func isRed(_ x: Int, _ y: Int) -> Bool {
            let i = (y * width + x) * 3
            return Int(bytes[i]) > Int(bytes[i + 2]) + 64
        }

        /// Blue wins clearly over red at (x, y).
        func isBlue(_ x: Int, _ y: Int) -> Bool {
            let i = (y * width + x) * 3
            return Int(bytes[i + 2]) > Int(bytes[i]) + 64
        }
    }

    static func rgbFrame(_ url: URL) throws -> RGBFrame {
        let facts = try videoFacts(url)
        let (data, status) = try firstFrame(url, pixelFormat: "rgb24")
        guard status == 0, data.count == facts.width * facts.height * 3 else {
            throw CommandFailed(command: "ffmpeg rgb24 \(url.path)", output: "\(data.count) bytes for \(facts.width)x\(facts.height)")
        }
        return RGBFrame(width: facts.width, height: facts.height, bytes: data)
    }
}
