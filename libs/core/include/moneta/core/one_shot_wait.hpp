/// @file moneta/core/one_shot_wait.hpp
/// @brief A timer-free one-shot wait for Asio: an operation suspends on a OneShotWait until its
/// owner calls complete(); the handler then runs through its own executor, never inside
/// complete().
///
/// Why: the idiom "suspend on a steady_timer set to the timeout; cancel() it to wake" arms and
/// cancels a reactor timer per operation (the timer queue's heap, the reactor's mutex twice,
/// steady_clock::now(): ~800-1,000 instructions per Redis call in moneta). Here the handler is
/// stored as it is, and timeouts are the owner's business (e.g. one timer for all its waits).
///
/// Wake-ups are batched: complete() moves the handler to the list's ready queue, and one posted
/// drain per loop turn runs every handler queued before it started (each directly when its
/// associated executor is the list's, else posted to its own). A post per completion cost ~600
/// instructions (two recycling-allocator blocks, the scheduler's mutex); a drain per read's
/// worth of Redis replies is amortised. FIFO order is kept.
///
/// Memory: the stored handler lives in a block from the handler's associated allocator (Asio's
/// recycling allocator when it has none, as for awaitables and timer operations), freed before
/// the handler runs; the drain's post uses Asio's recycling caches: a steady state of waits
/// allocates nothing.
///
/// Ownership: a waiting coroutine's handler owns its frame, which usually holds the OneShotWait;
/// the WaitList is an I/O object whose service destroys the handlers still stored when the
/// execution context shuts down (like a timer's), so a frame suspended here is freed with its
/// io_context instead of leaking in a cycle.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>

#include "moneta/core/assert.hpp"

namespace moneta::core {

class OneShotWait;
class WaitList;

namespace detail {

/// A stored completion handler, type-erased by one function pointer.
struct WaitOp {
    /// With @p ex: frees the block and runs the handler with `ec` (directly when its associated
    /// executor is *ex, else posted there). Without: frees the block and destroys the handler.
    using Fn = void (*)(WaitOp* op, const boost::asio::any_io_executor* ex);
    Fn fn;
    boost::asio::cancellation_slot slot;  ///< where our cancellation handler is installed
    boost::system::error_code ec;         ///< the result, once completed
    WaitOp* next = nullptr;               ///< in a ReadyQueue or WaitListService::shutdown's chain
};

template <class Handler>
struct WaitOpImpl final : WaitOp {
    using DefaultAlloc = boost::asio::recycling_allocator<void>;
    using Alloc =
        typename std::allocator_traits<boost::asio::associated_allocator_t<Handler, DefaultAlloc>>::
            template rebind_alloc<WaitOpImpl>;

    explicit WaitOpImpl(Handler&& h) : WaitOp{&run, {}, {}, nullptr}, handler(std::move(h)) {}

    static WaitOpImpl* create(Handler&& h) {
        Alloc alloc(boost::asio::get_associated_allocator(h, DefaultAlloc()));
        WaitOpImpl* p = std::allocator_traits<Alloc>::allocate(alloc, 1);
        try {
            return ::new (static_cast<void*>(p)) WaitOpImpl(std::move(h));
        } catch (...) {
            std::allocator_traits<Alloc>::deallocate(alloc, p, 1);
            throw;
        }
    }

    static void run(WaitOp* base, const boost::asio::any_io_executor* ex) {
        auto* self = static_cast<WaitOpImpl*>(base);
        Alloc alloc(boost::asio::get_associated_allocator(self->handler, DefaultAlloc()));
        // The handler leaves the block before anything else happens: destroying it may destroy
        // the frame that holds the OneShotWait (and, through it, whoever called us), so it must
        // not die inside memory it owns, and the block goes back before the upcall can reuse it.
        Handler h(std::move(self->handler));
        const boost::system::error_code ec = self->ec;
        self->~WaitOpImpl();
        std::allocator_traits<Alloc>::deallocate(alloc, self, 1);
        if (ex != nullptr) {
            auto target = boost::asio::get_associated_executor(h, *ex);
            if (target == *ex) {
                std::move(h)(ec);  // we are a handler of *ex's already: the drain
            } else {
                boost::asio::post(target, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
            }
        }
    }

    Handler handler;
};

/// Completed ops waiting for the drain. Shared by its WaitList and the posted drain, so either
/// may go first.
struct ReadyQueue {
    explicit ReadyQueue(boost::asio::any_io_executor e) : ex(std::move(e)) {}
    ReadyQueue(const ReadyQueue&) = delete;
    ReadyQueue& operator=(const ReadyQueue&) = delete;
    /// Ops never drained (the context shut down) are destroyed, not run.
    ~ReadyQueue() {
        while (WaitOp* op = pop()) {
            op->fn(op, nullptr);
        }
    }
    void push(WaitOp* op) noexcept {
        op->next = nullptr;
        if (tail != nullptr) {
            tail->next = op;
        } else {
            head = op;
        }
        tail = op;
    }
    WaitOp* pop() noexcept {
        WaitOp* op = head;
        if (op != nullptr) {
            head = op->next;
            if (head == nullptr) {
                tail = nullptr;
            }
            op->next = nullptr;
        }
        return op;
    }

    boost::asio::any_io_executor ex;
    WaitOp* head = nullptr;
    WaitOp* tail = nullptr;
    bool scheduled = false;  ///< a drain is posted
};

/// Posts a drain of @p q unless one is posted already.
inline void schedule_drain(const std::shared_ptr<ReadyQueue>& q) {
    if (q->scheduled) {
        return;
    }
    q->scheduled = true;
    boost::asio::post(q->ex, [q]() {
        ReadyQueue& r = *q;
        // Only what was queued when the drain started: completions made by the handlers run here
        // go to the next drain, in a later turn, so two waiters that wake each other cannot keep
        // the loop to themselves.
        r.scheduled = false;
        WaitOp* last = r.tail;
        // If a handler throws, what is left stays queued for another drain.
        struct Reschedule {
            const std::shared_ptr<ReadyQueue>& q;
            ~Reschedule() {
                if (q->head != nullptr) {
                    schedule_drain(q);
                }
            }
        } reschedule{q};
        while (last != nullptr) {
            WaitOp* op = r.pop();
            const bool was_last = op == last;
            op->fn(op, &r.ex);
            if (was_last) {
                break;
            }
        }
    });
}

class WaitListService;

}  // namespace detail

/// The owner of a set of OneShotWaits: an I/O object bound to an executor's execution context.
/// Not movable. Must not outlive its execution context (like any Asio I/O object).
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (a list and its waits are used from one
/// thread at a time, e.g. the thread that runs a single-threaded io_context).
class WaitList {
public:
    explicit WaitList(boost::asio::any_io_executor executor);
    WaitList(const WaitList&) = delete;
    WaitList& operator=(const WaitList&) = delete;
    /// Waits still pending complete with operation_aborted (as a destroyed timer's do).
    ~WaitList();

    const boost::asio::any_io_executor& get_executor() const noexcept { return ready_->ex; }
    /// True when no wait is pending.
    bool empty() const noexcept { return head_ == nullptr; }

private:
    friend class OneShotWait;
    friend class detail::WaitListService;

    void link(OneShotWait& w) noexcept;
    void unlink(OneShotWait& w) noexcept;
    /// Queues a completed op for the drain.
    void make_ready(detail::WaitOp* op) {
        ready_->push(op);
        detail::schedule_drain(ready_);
    }

    std::shared_ptr<detail::ReadyQueue> ready_;  ///< also holds the executor
    detail::WaitListService& service_;
    OneShotWait* head_ = nullptr;  ///< pending waits, unordered
    WaitList* prev_ = nullptr;     ///< in the service's registry, guarded by its mutex
    WaitList* next_ = nullptr;
};

/// One operation's wait: async_wait() suspends it, complete() resumes it. Reusable once the
/// previous wait has completed. Not movable (the list and the cancellation handler point to it).
/// A pending wait is not outstanding work: io_context::run() may return while it waits.
///
/// Cancellation: if the handler has a connected cancellation slot, any cancellation type
/// completes the wait with operation_aborted. The slot's handler is cleared on a normal
/// completion; after a cancellation it stays installed until the waiter's own handler clears
/// the slot (awaitables do when they resume), since it cannot be destroyed while it runs.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (the same thread as its WaitList).
class OneShotWait {
public:
    OneShotWait() noexcept = default;
    OneShotWait(const OneShotWait&) = delete;
    OneShotWait& operator=(const OneShotWait&) = delete;
    /// A wait still pending here is dropped: its handler is destroyed, never invoked. (An
    /// awaitable's frame cannot end while its handler is stored, so that is a callback's case.)
    ~OneShotWait() {
        if (op_ != nullptr) {
            detail::WaitOp* op = detach(true);
            op->fn(op, nullptr);
        }
    }

    /// True between async_wait() and the completion.
    bool pending() const noexcept { return op_ != nullptr; }

    /// Starts the wait; signature void(boost::system::error_code). At most one at a time.
    template <class Token>
    auto async_wait(WaitList& list, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [self = this, &list](auto&& handler) {
                // (A named capture: clang 14 calls an implicit `this` in a generic lambda unused.)
                self->start(list, std::forward<decltype(handler)>(handler));
            },
            token
        );
    }

    /// Completes the pending wait with @p ec: its handler runs in a later turn (the list's next
    /// drain, through its associated executor), never inside this call.
    /// @return false when no wait was pending.
    bool complete(boost::system::error_code ec = {}) {
        if (op_ == nullptr) {
            return false;
        }
        WaitList* list = list_;
        detail::WaitOp* op = detach(true);
        op->ec = ec;
        list->make_ready(op);
        return true;
    }

private:
    friend class WaitList;
    friend class detail::WaitListService;

    struct CancelHandler {
        OneShotWait* wait;
        void operator()(boost::asio::cancellation_type_t type) const {
            if ((type & (boost::asio::cancellation_type::terminal |
                         boost::asio::cancellation_type::partial |
                         boost::asio::cancellation_type::total)) !=
                    boost::asio::cancellation_type::none &&
                wait->op_ != nullptr) {
                // Not detach(true): clearing the slot would destroy this handler while it runs.
                WaitList* list = wait->list_;
                detail::WaitOp* op = wait->detach(false);
                op->ec = boost::asio::error::operation_aborted;
                list->make_ready(op);
            }
        }
    };

    template <class Handler>
    void start(WaitList& list, Handler&& handler) {
        MONETA_ASSERT(op_ == nullptr, "OneShotWait: a second wait while one is pending");
        using Op = detail::WaitOpImpl<std::decay_t<Handler>>;
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) {
            // Before the handler is stored: if this throws, nothing is left to undo. Harmless
            // until op_ is set (the handler checks it).
            slot.template emplace<CancelHandler>(CancelHandler{this});
        }
        Op* op = nullptr;
        try {
            op = Op::create(std::forward<Handler>(handler));
        } catch (...) {
            if (slot.is_connected()) {
                slot.clear();
            }
            throw;
        }
        op->slot = slot;
        op_ = op;
        list_ = &list;
        list.link(*this);
    }

    /// Takes the op out: unlinked, and (when @p clear_slot) our cancellation handler removed.
    detail::WaitOp* detach(bool clear_slot) noexcept {
        detail::WaitOp* op = op_;
        list_->unlink(*this);
        op_ = nullptr;
        list_ = nullptr;
        if (clear_slot && op->slot.is_connected()) {
            op->slot.clear();
        }
        return op;
    }

    detail::WaitOp* op_ = nullptr;
    WaitList* list_ = nullptr;  ///< set while pending
    OneShotWait* prev_ = nullptr;
    OneShotWait* next_ = nullptr;
};

namespace detail {

/// Knows every WaitList of an execution context, so that its shutdown can destroy the handlers
/// still stored in them (their frames would otherwise keep each other alive forever).
class WaitListService final : public boost::asio::execution_context::service {
public:
    using key_type = WaitListService;
    inline static boost::asio::execution_context::id id;

    explicit WaitListService(boost::asio::execution_context& ctx)
        : boost::asio::execution_context::service(ctx) {}

    void add(WaitList& list) {
        const std::lock_guard<std::mutex> lock(mu_);
        list.next_ = lists_;
        if (lists_ != nullptr) {
            lists_->prev_ = &list;
        }
        lists_ = &list;
    }

    void remove(WaitList& list) noexcept {
        const std::lock_guard<std::mutex> lock(mu_);
        if (list.prev_ != nullptr) {
            list.prev_->next_ = list.next_;
        } else if (lists_ == &list) {
            lists_ = list.next_;
        }
        if (list.next_ != nullptr) {
            list.next_->prev_ = list.prev_;
        }
        list.prev_ = list.next_ = nullptr;
    }

private:
    void shutdown() override {
        // No thread runs the context any more. Take every op out first, then destroy them
        // unlocked: destroying one may destroy frames, OneShotWaits and WaitLists (which
        // unregister themselves under mu_).
        WaitOp* chain = nullptr;
        {
            const std::lock_guard<std::mutex> lock(mu_);
            for (WaitList* list = lists_; list != nullptr; list = list->next_) {
                while (OneShotWait* w = list->head_) {
                    WaitOp* op = w->detach(true);
                    op->next = chain;
                    chain = op;
                }
                while (WaitOp* op = list->ready_->pop()) {  // completed, never drained
                    op->next = chain;
                    chain = op;
                }
            }
        }
        while (chain != nullptr) {
            WaitOp* op = chain;
            chain = op->next;
            op->fn(op, nullptr);
        }
    }

    std::mutex mu_;
    WaitList* lists_ = nullptr;  // guarded by mu_
};

}  // namespace detail

inline WaitList::WaitList(boost::asio::any_io_executor executor)
    : ready_(std::make_shared<detail::ReadyQueue>(std::move(executor))),
      service_(boost::asio::use_service<detail::WaitListService>(
          boost::asio::query(ready_->ex, boost::asio::execution::context)
      )) {
    service_.add(*this);
}

inline WaitList::~WaitList() {
    while (OneShotWait* w = head_) {
        w->complete(boost::asio::error::operation_aborted);
    }
    service_.remove(*this);
}

inline void WaitList::link(OneShotWait& w) noexcept {
    w.prev_ = nullptr;
    w.next_ = head_;
    if (head_ != nullptr) {
        head_->prev_ = &w;
    }
    head_ = &w;
}

inline void WaitList::unlink(OneShotWait& w) noexcept {
    if (w.prev_ != nullptr) {
        w.prev_->next_ = w.next_;
    } else {
        head_ = w.next_;
    }
    if (w.next_ != nullptr) {
        w.next_->prev_ = w.prev_;
    }
    w.prev_ = w.next_ = nullptr;
}

}  // namespace moneta::core
