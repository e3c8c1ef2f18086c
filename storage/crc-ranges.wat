;; CRC-32 (IEEE, zlib's values) of many short byte ranges in one call: the source of the bytes embedded in
;; crc-ranges-wasm.ts (regenerate with `node dist/scripts/tools/build-wasm.js`; a test checks they match).
;; A native CRC call costs ~110-150 ns whatever the length; a producer writing 128-byte metadata made one per event.
;; This does all of a batch's in one call, slicing-by-16 (~60 ns per 128 bytes; see crc-ranges.ts).
;;
;; Memory (fixed, 5 pages; JS writes the tables once and never grows it, so its views stay valid):
;;   [0, 16384)       16 tables of 256 little-endian u32: T[k][b] = CRC register after b is followed by k zero bytes
;;   the caller's areas above that: range bounds (u32 offsets), results (u32), bytes
(module
  (memory (export "memory") 5)

  ;; CRC-32 of bytes [p, end), starting from register `c` (the finished CRC of what came before, 0 for none).
  (func $crc (param $p i32) (param $end i32) (param $c i32) (result i32)
    (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local.set $c (i32.xor (local.get $c) (i32.const -1)))
    ;; 16 bytes a step: four little-endian words, the first folded into the register, one lookup per byte.
    (block $short
      (loop $step16
        (br_if $short (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $c (i32.xor (local.get $c) (i32.load (local.get $p))))
        (local.set $w1 (i32.load offset=4 (local.get $p)))
        (local.set $w2 (i32.load offset=8 (local.get $p)))
        (local.set $w3 (i32.load offset=12 (local.get $p)))
        (local.set $c
          (i32.xor
            (i32.xor
              (i32.xor
                (i32.xor
                  (i32.load offset=15360 (i32.shl (i32.and (local.get $c) (i32.const 255)) (i32.const 2)))
                  (i32.load offset=14336 (i32.shl (i32.and (i32.shr_u (local.get $c) (i32.const 8)) (i32.const 255)) (i32.const 2))))
                (i32.xor
                  (i32.load offset=13312 (i32.shl (i32.and (i32.shr_u (local.get $c) (i32.const 16)) (i32.const 255)) (i32.const 2)))
                  (i32.load offset=12288 (i32.shl (i32.shr_u (local.get $c) (i32.const 24)) (i32.const 2)))))
              (i32.xor
                (i32.xor
                  (i32.load offset=11264 (i32.shl (i32.and (local.get $w1) (i32.const 255)) (i32.const 2)))
                  (i32.load offset=10240 (i32.shl (i32.and (i32.shr_u (local.get $w1) (i32.const 8)) (i32.const 255)) (i32.const 2))))
                (i32.xor
                  (i32.load offset=9216 (i32.shl (i32.and (i32.shr_u (local.get $w1) (i32.const 16)) (i32.const 255)) (i32.const 2)))
                  (i32.load offset=8192 (i32.shl (i32.shr_u (local.get $w1) (i32.const 24)) (i32.const 2))))))
            (i32.xor
              (i32.xor
                (i32.xor
                  (i32.load offset=7168 (i32.shl (i32.and (local.get $w2) (i32.const 255)) (i32.const 2)))
                  (i32.load offset=6144 (i32.shl (i32.and (i32.shr_u (local.get $w2) (i32.const 8)) (i32.const 255)) (i32.const 2))))
                (i32.xor
                  (i32.load offset=5120 (i32.shl (i32.and (i32.shr_u (local.get $w2) (i32.const 16)) (i32.const 255)) (i32.const 2)))
                  (i32.load offset=4096 (i32.shl (i32.shr_u (local.get $w2) (i32.const 24)) (i32.const 2)))))
              (i32.xor
                (i32.xor
                  (i32.load offset=3072 (i32.shl (i32.and (local.get $w3) (i32.const 255)) (i32.const 2)))
                  (i32.load offset=2048 (i32.shl (i32.and (i32.shr_u (local.get $w3) (i32.const 8)) (i32.const 255)) (i32.const 2))))
                (i32.xor
                  (i32.load offset=1024 (i32.shl (i32.and (i32.shr_u (local.get $w3) (i32.const 16)) (i32.const 255)) (i32.const 2)))
                  (i32.load offset=0 (i32.shl (i32.shr_u (local.get $w3) (i32.const 24)) (i32.const 2))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $step16)))
    ;; The last 0..15 bytes, one at a time (table 0).
    (block $done
      (loop $step1
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c
          (i32.xor
            (i32.load (i32.shl (i32.and (i32.xor (local.get $c) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 2)))
            (i32.shr_u (local.get $c) (i32.const 8))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $step1)))
    (i32.xor (local.get $c) (i32.const -1)))

  ;; For k in [0, n): out[k] = CRC-32 of bytes [bytes + bounds[k], bytes + bounds[k + 1]).
  ;; `bounds` holds n + 1 u32 offsets, non-decreasing; `out` n u32 results (all addresses into this memory).
  (func (export "crcRanges") (param $bytes i32) (param $bounds i32) (param $n i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (i32.store (local.get $out)
          (call $crc
            (i32.add (local.get $bytes) (i32.load (local.get $bounds)))
            (i32.add (local.get $bytes) (i32.load offset=4 (local.get $bounds)))
            (i32.const 0)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $bounds (i32.add (local.get $bounds) (i32.const 4)))
        (br $next))))
)
