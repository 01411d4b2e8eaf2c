/**
 * `live: false` (a consumer that ends at what its streams held when it
 * started): when one reader is done. The consumer's info tells: the server
 * delivered past the end sequence, everything it delivered to the reader
 * came, and, for a group, what is not acknowledged yet is held by the reader
 * or the acknowledgements have passed the end. One look at a time; asked
 * during a look, it looks again right after.
 *
 * @module
 */
import type { ConsumerInfo } from "@nats-io/jetstream";

/** Watches one reader's end. */
export class EndWatch {
  /** The last stream sequence to deliver (the stream's last when the consumer started). */
  readonly endSeq: number;
  readonly #look: () => Promise<ConsumerInfo | undefined>;
  readonly #allHere: (info: ConsumerInfo) => boolean;
  readonly #end: () => void;
  #looking = false;
  #again = false;
  #afterRead = false;

  /**
   * A watch of the end at `endSeq`: `look` fetches the consumer's info
   * (`undefined` if the reader moved meanwhile), `allHere` says whether all
   * it delivered came (and a group's unacknowledged are the reader's own),
   * `end` ends the reader.
   */
  constructor(
    endSeq: number,
    look: () => Promise<ConsumerInfo | undefined>,
    allHere: (info: ConsumerInfo) => boolean,
    end: () => void,
  ) {
    this.endSeq = endSeq;
    this.#look = look;
    this.#allHere = allHere;
    this.#end = end;
  }

  /** Look whether the reader is done. */
  check(): void {
    if (this.#looking) {
      this.#again = true;
      return;
    }
    this.#looking = true;
    this.#again = false;
    this.#look()
      .then((info) => {
        if (info === undefined || info.delivered.stream_seq < this.endSeq) return;
        if (this.#allHere(info)) this.#end();
        // Delivered past the end, not all here yet: look again after the next socket read.
        else this.#afterRead = true;
      })
      .catch(() => {
        // Looked at again at the next quiet moment.
      })
      .finally(() => {
        this.#looking = false;
        if (this.#again) this.check();
      });
  }

  /** A socket read was handed over: look again if the last look was waiting for it. */
  afterRead(): void {
    if (!this.#afterRead) return;
    this.#afterRead = false;
    this.check();
  }
}
