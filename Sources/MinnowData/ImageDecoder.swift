import CPNG
import CTurboJPEG
import Foundation

/// A decoded image: 8-bit pixels, row-major, `channels` (1 or 3) values per pixel.
struct DecodedImage {
    var width: Int
    var height: Int
    var channels: Int
    var pixels: [UInt8]
}

/// PNG (libpng's simplified API) and JPEG (libjpeg-turbo's TurboJPEG API) decoding, chosen by the
/// file's signature, never its name. Alpha is dropped and colour conversions follow Pillow's
/// `Image.convert`: grey to RGB repeats the value, RGB to grey is ITU-R 601-2 luma,
/// `(19595 R + 38470 G + 7471 B + 2^15) >> 16` as Pillow rounds it. Images of more than `maximumSide` pixels a side are refused before decoding.
enum ImageDecoder {
    /// The largest width or height decoded.
    static let maximumSide = 4096

    /// Whether `bytes` hold a colour image, and its size, from the header alone.
    static func header(_ bytes: [UInt8], path: String) throws(DatasetError) -> (width: Int, height: Int, colour: Bool) {
        let image = try decode(bytes, path: path, headerOnly: true)
        return (image.width, image.height, image.channels == 3)
    }

    /// The image in `bytes` with `channels` (1 or 3) values per pixel.
    static func decode(_ bytes: [UInt8], path: String, channels: Int) throws(DatasetError) -> DecodedImage {
        converted(try decode(bytes, path: path, headerOnly: false), to: channels)
    }

    private static func decode(_ bytes: [UInt8], path: String, headerOnly: Bool) throws(DatasetError) -> DecodedImage {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try png(bytes, path: path, headerOnly: headerOnly) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try jpeg(bytes, path: path, headerOnly: headerOnly) }
        throw .undecodableImage(path: path, reason: "neither a PNG nor a JPEG file (its first bytes are not a PNG or JPEG signature)")
    }

    private static func png(_ bytes: [UInt8], path: String, headerOnly: Bool) throws(DatasetError) -> DecodedImage {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else { throw .undecodableImage(path: path, reason: message(of: &image)) }
        let colour = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
        let (width, height) = (Int(image.width), Int(image.height))
        guard !headerOnly, try checkedSize(width, height, path) else {
            png_image_free(&image)
            return DecodedImage(width: width, height: height, channels: colour ? 3 : 1, pixels: [])
        }
        // With alpha, then dropped: what Pillow's convert does (no compositing).
        image.format = png_uint_32(PNG_FORMAT_FLAG_ALPHA) | (colour ? png_uint_32(PNG_FORMAT_FLAG_COLOR) : 0)
        var withAlpha = [UInt8](repeating: 0, count: width * height * (colour ? 4 : 2))
        let finished = withAlpha.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard finished != 0 else { throw .undecodableImage(path: path, reason: message(of: &image)) }
        let stride = colour ? 4 : 2, channels = colour ? 3 : 1
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for i in 0..<(width * height) {
            for c in 0..<channels { pixels[i * channels + c] = withAlpha[i * stride + c] }
        }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    private static func message(of image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        png_image_free(&image)
        return text.isEmpty ? "libpng could not read it" : "libpng: \(text)"
    }

    private static func jpeg(_ bytes: [UInt8], path: String, headerOnly: Bool) throws(DatasetError) -> DecodedImage {
        guard let handle = tjInitDecompress() else { throw .undecodableImage(path: path, reason: "libjpeg-turbo could not start") }
        defer { tjDestroy(handle) }
        return try bytes.withUnsafeBufferPointer { source throws(DatasetError) in
            func failure() -> DatasetError { .undecodableImage(path: path, reason: "libjpeg-turbo: " + String(cString: tjGetErrorStr2(handle))) }
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
            guard tjDecompressHeader3(handle, source.baseAddress, UInt(source.count), &width, &height, &subsampling, &colourspace) == 0 else {
                throw failure()
            }
            let channels = colourspace == Int32(TJCS_GRAY.rawValue) ? 1 : 3
            guard !headerOnly, try checkedSize(Int(width), Int(height), path) else {
                return DecodedImage(width: Int(width), height: Int(height), channels: channels, pixels: [])
            }
            var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
            let format = Int32((channels == 1 ? TJPF_GRAY : TJPF_RGB).rawValue)
            let status = pixels.withUnsafeMutableBufferPointer {
                tjDecompress2(handle, source.baseAddress, UInt(source.count), $0.baseAddress, width, 0, height, format, 0)
            }
            guard status == 0 else { throw failure() }
            return DecodedImage(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
        }
    }

    /// True when the size is within bounds; an error naming the file otherwise.
    private static func checkedSize(_ width: Int, _ height: Int, _ path: String) throws(DatasetError) -> Bool {
        guard (1...maximumSide).contains(width), (1...maximumSide).contains(height) else {
            throw .undecodableImage(path: path, reason: "\(width)x\(height) pixels: Minnow reads images of 1 to \(maximumSide) pixels a side")
        }
        return true
    }

    /// `image` with `channels` values per pixel, converted as Pillow converts.
    static func converted(_ image: DecodedImage, to channels: Int) -> DecodedImage {
        guard image.channels != channels else { return image }
        let count = image.width * image.height
        var pixels = [UInt8](repeating: 0, count: count * channels)
        for i in 0..<count {
            if channels == 3 {
                for c in 0..<3 { pixels[i * 3 + c] = image.pixels[i] }
            } else {
                let (r, g, b) = (Int(image.pixels[i * 3]), Int(image.pixels[i * 3 + 1]), Int(image.pixels[i * 3 + 2]))
                pixels[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
            }
        }
        return DecodedImage(width: image.width, height: image.height, channels: channels, pixels: pixels)
    }
}
