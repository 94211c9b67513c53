import MinnowHDF5
import MinnowTensor

/// Tensors as HDF5 datasets: float32, row-major, in their real shapes (a rank-0 tensor as an HDF5
/// scalar). MinnowHDF5 knows arrays of numbers and shapes; this is where they become tensors.
extension HDF5File {
    /// Writes `tensor` as a float32 dataset of the tensor's shape.
    public func write(_ tensor: Tensor, to path: String) throws(CheckpointError) {
        try write(tensor.scalars, shape: tensor.shape, to: path)
    }

    /// Reads the float32 dataset at `path` into a tensor of its stored shape, checking the shape
    /// against `expectedShape` when one is given.
    public func readTensor(_ path: String, expectedShape: [Int]? = nil) throws(CheckpointError) -> Tensor {
        let (shape, values) = try read(path, as: Float.self, expectedShape: expectedShape)
        return Tensor(shape: shape, scalars: values)
    }
}

/// Why a checkpoint could not be read or written: the file-level errors of MinnowHDF5 (no such
/// file, not HDF5, damaged, missing or mistyped datasets) and the checkpoint's own
/// (`invalidContent`, `unsupportedFormatVersion`, `shapeMismatch`), each naming the file, the path
/// inside it and what is wrong.
public typealias CheckpointError = HDF5Error
