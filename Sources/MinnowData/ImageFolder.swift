import Foundation

/// A data set given as a folder of images, torchvision's `ImageFolder` per split:
/// `ROOT/train/CLASS/*.png|jpg|jpeg` and `ROOT/test/CLASS/...` (subfolders of a class are walked
/// too). The classes are the folders of `train/`, sorted by code point as Python sorts them;
/// their index is the label. `test/` may lack a class but may not name one `train/` does not have.
///
/// - Every image must have the size of the first training image (Minnow does not resize).
/// - The images have 3 channels (RGB) if any training image is in colour, else 1; alpha is
///   dropped. Decoding and conversions are `ImageDecoder`'s (libpng, libjpeg-turbo).
/// - Files other than `.png`, `.jpg` and `.jpeg` (any case) and hidden files are ignored, as
///   torchvision ignores them; a class folder with no images is an error.
public enum ImageFolder {
    /// The image files of one split with their labels, in the order they are loaded.
    struct Listing {
        var classes: [String]
        var files: [(url: URL, label: Int)]
    }

    /// The extensions read.
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Loads `split` of the folder at `root` as a data set called `name`.
    public static func load(split: Split, root: URL, name: String) throws(DatasetError) -> Dataset {
        let classes = try classNames(root: root)
        let training = try listing(.train, root: root, classes: classes)
        let trainingBytes = try training.files.map { file throws(DatasetError) in try FileBytes.read(file.url) }
        let (reference, channels) = try layout(of: training, bytes: trainingBytes)
        let listed = split == .train ? training : try listing(split, root: root, classes: classes)
        let bytes = split == .train ? trainingBytes : try listed.files.map { file throws(DatasetError) in try FileBytes.read(file.url) }
        var pixels = [UInt8]()
        pixels.reserveCapacity(listed.files.count * reference.width * reference.height * channels)
        for (file, content) in zip(listed.files, bytes) {
            let image = try ImageDecoder.decode(content, path: file.url.path, channels: channels)
            guard image.width == reference.width, image.height == reference.height else {
                throw .invalidDataset(path: file.url.path, reason: "\(image.width)x\(image.height) pixels, but the first training image (\(reference.path)) has \(reference.width)x\(reference.height): every image must have one size (Minnow does not resize)")
            }
            pixels += image.pixels
        }
        return Dataset(name: name, pixels: pixels, labels: listed.files.map(\.label),
                       imageShape: [reference.height, reference.width, channels], classCount: classes.count)
    }

    /// The class names: the folders of `ROOT/train`, sorted by code point.
    public static func classNames(root: URL) throws(DatasetError) -> [String] {
        let train = root.appendingPathComponent(Split.train.rawValue)
        let classes = try folders(in: train, missingHint: "an image folder needs train/CLASS/ and test/CLASS/ folders of PNG or JPEG files")
        guard !classes.isEmpty else { throw .invalidDataset(path: train.path, reason: "no class folders (train/CLASS/image.png)") }
        return classes
    }

    /// The files of `split`, class by class, each class's files sorted by path.
    static func listing(_ split: Split, root: URL, classes: [String]) throws(DatasetError) -> Listing {
        let folder = root.appendingPathComponent(split.rawValue)
        let present = try folders(in: folder, missingHint: "an image folder needs train/CLASS/ and test/CLASS/ folders of PNG or JPEG files")
        if let stranger = present.first(where: { !classes.contains($0) }) {
            throw .invalidDataset(path: folder.appendingPathComponent(stranger).path,
                                  reason: "a class that train/ does not have (train/ has \(classes.joined(separator: ", ")))")
        }
        var files = [(url: URL, label: Int)]()
        for (label, name) in classes.enumerated() where present.contains(name) {
            let classFolder = folder.appendingPathComponent(name)
            let images = imageFiles(in: classFolder)
            guard !images.isEmpty else {
                throw .invalidDataset(path: classFolder.path, reason: "an empty class: no .png, .jpg or .jpeg files")
            }
            files += images.map { ($0, label) }
        }
        return Listing(classes: classes, files: files)
    }

    /// The size of the first training image and the channel count: 3 if any training image is in
    /// colour, else 1 (from the headers alone).
    private static func layout(of training: Listing, bytes: [[UInt8]]) throws(DatasetError)
        -> (reference: (path: String, width: Int, height: Int), channels: Int) {
        var colour = false
        var reference: (path: String, width: Int, height: Int)?
        for (file, content) in zip(training.files, bytes) {
            let header = try ImageDecoder.header(content, path: file.url.path)
            colour = colour || header.colour
            if reference == nil { reference = (file.url.path, header.width, header.height) }
        }
        return (reference!, colour ? 3 : 1)
    }

    /// The visible subfolders of `folder`, sorted by code point.
    private static func folders(in folder: URL, missingHint: String) throws(DatasetError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .missingDataset(name: "image folder", directory: folder.deletingLastPathComponent().path,
                                  missingFiles: [folder.lastPathComponent + "/"], hint: missingHint)
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw .unreadable(path: folder.path, reason: error.localizedDescription)
        }
        return sortedByCodePoint(names.filter { name in
            var isFolder: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isFolder)
                && isFolder.boolValue
        })
    }

    /// The image files under `folder` (walked recursively, hidden entries skipped), sorted by path.
    private static func imageFiles(in folder: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else { return [] }
        var found = [String: URL]()
        for case let url as URL in walker where extensions.contains(url.pathExtension.lowercased()) {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                found[String(url.path.dropFirst(folder.path.count))] = url
            }
        }
        return sortedByCodePoint(Array(found.keys)).map { found[$0]! }
    }

    private static func sortedByCodePoint(_ names: [String]) -> [String] {
        names.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }
}
