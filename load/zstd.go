package load

import (
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// zstdCodec compresses every Parquet file the loader writes. It is parquet-go's
// zstd codec (same level and frame options, a smaller window: see zstdWindow) with encoders kept in a
// free list instead of a sync.Pool: a sync.Pool is emptied by every garbage collection, which the soft
// memory limit makes frequent, and a new encoder allocates its tables again (most of a small file's
// compression time). Decoding is parquet-go's.
var zstdCodec = &pooledZstd{free: make(chan *zstd.Encoder, 8)}

// zstdWindow bounds how far back a match may reach, and with it an encoder's memory: 3.6 MiB instead of
// 17.6 MiB with the default 8 MiB window, and the free list and both merge workers hold several. A page is
// compressed on its own and parquet-go closes pages at 256 KiB, so a window of 1 MiB covers every page
// but one holding a single value of more than 1 MiB, which compresses a little less well.
const zstdWindow = 1 << 20

type pooledZstd struct {
	free chan *zstd.Encoder
}

func (c *pooledZstd) String() string                            { return "ZSTD" }
func (c *pooledZstd) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *pooledZstd) Encode(dst, src []byte) ([]byte, error) {
	var e *zstd.Encoder
	select {
	case e = <-c.free:
	default:
		var err error
		e, err = zstd.NewWriter(nil,
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithWindowSize(zstdWindow),
			zstd.WithZeroFrames(true),
			zstd.WithEncoderCRC(false),
		)
		if err != nil {
			return nil, err
		}
	}
	out := e.EncodeAll(src, dst[:0])
	select {
	case c.free <- e:
	default: // the list is full: let this one go
	}
	return out, nil
}

func (c *pooledZstd) Decode(dst, src []byte) ([]byte, error) { return parquet.Zstd.Decode(dst, src) }
