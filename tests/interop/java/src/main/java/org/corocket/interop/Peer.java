package org.corocket.interop;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONArray;
import com.alibaba.fastjson.JSONObject;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.rocketmq.client.ClientConfig;
import org.apache.rocketmq.client.consumer.AllocateMessageQueueStrategy;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMachineRoomNearby;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragelyByCircle;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueByConfig;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueByMachineRoom;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueConsistentHash;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.client.producer.selector.SelectMessageQueueByHash;
import org.apache.rocketmq.common.UtilAll;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.heartbeat.MessageModel;
import org.apache.rocketmq.client.impl.consumer.ProcessQueue;

/**
 * The Java client as a test peer for corocket's interop suite. Reads one JSON command a line on
 * stdin ({"seq":N,"op":...}), answers each with {"ev":"reply","seq":N,"ok":...}, and prints one
 * JSON line for every message its consumers receive ({"ev":"recv"}) and every transaction
 * check-back ({"ev":"check"}), with every field of the message. Exits when stdin closes.
 */
public final class Peer {
    private static PrintStream events;

    private final String namesrv;
    private final Map<String, DefaultMQProducer> producers = new HashMap<>();
    private final Map<String, DefaultMQPushConsumer> consumers = new HashMap<>();

    private Peer(String namesrv) {
        this.namesrv = namesrv;
    }

    public static void main(String[] args) throws Exception {
        events = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);  // whatever the client libraries print stays off the event stream
        new Peer(args[0]).run();
        System.exit(0);  // the client libraries leave non-daemon threads behind
    }

    private void run() throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        JSONObject ready = event("ready");
        emit(ready);
        for (String line; (line = in.readLine()) != null;) {
            if (line.isBlank())
                continue;
            JSONObject cmd = JSON.parseObject(line);
            JSONObject reply = event("reply");
            reply.put("seq", cmd.getLongValue("seq"));
            try {
                handle(cmd, reply);
                reply.put("ok", true);
            } catch (Throwable e) {
                reply.put("ok", false);
                reply.put("error", e.toString());
            }
            emit(reply);
        }
        producers.values().forEach(DefaultMQProducer::shutdown);
        consumers.values().forEach(DefaultMQPushConsumer::shutdown);
    }

    private void handle(JSONObject cmd, JSONObject reply) throws Exception {
        switch (cmd.getString("op")) {
            case "producer": startProducer(cmd, reply); break;
            case "send": send(cmd, reply); break;
            case "consumer": startConsumer(cmd, reply); break;
            case "assignment": reply.put("queues", assignment(consumer(cmd))); break;
            case "allocate": reply.put("queues", allocate(cmd)); break;
            case "select": reply.put("indexes", selectByHash(cmd)); break;
            case "reserved": reply.put("names", new TreeSet<>(MessageConst.STRING_HASH_SET)); break;
            case "shutdown": shutdown(cmd.getString("id")); break;
            default: throw new IllegalArgumentException("unknown op " + cmd.getString("op"));
        }
    }

    // ---- producers ------------------------------------------------------------------------------

    private void startProducer(JSONObject cmd, JSONObject reply) throws Exception {
        String id = cmd.getString("id");
        // DefaultMQProducerImpl reads the compression type when it is constructed.
        String compress = cmd.getString("compress");
        System.setProperty("rocketmq.message.compressType", compress == null ? "ZLIB" : compress);
        DefaultMQProducer p;
        if (cmd.getBooleanValue("tx")) {
            TransactionMQProducer tp = new TransactionMQProducer(cmd.getString("group"));
            tp.setTransactionListener(transactionListener(id, LocalTransactionState.valueOf(cmd.getString("check"))));
            p = tp;
        } else {
            p = new DefaultMQProducer(cmd.getString("group"));
        }
        configure(p, cmd);
        p.setSendMsgTimeout(15000);  // a loaded 2-core machine: the first sends may be slow
        p.start();
        producers.put(id, p);
        reply.put("clientId", p.buildMQClientId());
    }

    private static TransactionListener transactionListener(String id, LocalTransactionState checkAnswer) {
        return new TransactionListener() {
            @Override
            public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                return LocalTransactionState.valueOf((String) arg);
            }

            @Override
            public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                JSONObject ev = event("check");
                ev.put("id", id);
                ev.put("msg", describe(msg));
                ev.put("answer", checkAnswer.name());
                emit(ev);
                return checkAnswer;
            }
        };
    }

    private void send(JSONObject cmd, JSONObject reply) throws Exception {
        DefaultMQProducer p = producers.get(cmd.getString("id"));
        List<Message> msgs = new ArrayList<>();
        for (Object o : cmd.getJSONArray("msgs"))
            msgs.add(toMessage((JSONObject) o));
        String mode = cmd.getString("mode");
        SendResult r = null;
        switch (mode) {
            case "sync": r = p.send(msgs.get(0)); break;
            case "oneway": p.sendOneway(msgs.get(0)); break;
            case "batch": r = p.send((Collection<Message>) msgs); break;
            case "ordered": r = p.send(msgs.get(0), new SelectMessageQueueByHash(), cmd.getString("key")); break;
            case "tx": {
                TransactionMQProducer tp = (TransactionMQProducer) p;
                TransactionSendResult tr = tp.sendMessageInTransaction(msgs.get(0), cmd.getString("local"));
                reply.put("localState", tr.getLocalTransactionState().name());
                r = tr;
                break;
            }
            default: throw new IllegalArgumentException("unknown send mode " + mode);
        }
        if (r != null)
            reply.put("result", describe(r));
        JSONArray sent = new JSONArray();
        for (Message m : msgs)
            sent.add(describe(m));
        reply.put("msgs", sent);
    }

    private static Message toMessage(JSONObject m) {
        Message msg = new Message(m.getString("topic"), Base64.getDecoder().decode(m.getString("body")));
        if (m.containsKey("tags"))
            msg.setTags(m.getString("tags"));
        if (m.containsKey("keys"))
            msg.setKeys(m.getJSONArray("keys").toJavaList(String.class));
        if (m.containsKey("flag"))
            msg.setFlag(m.getIntValue("flag"));
        if (m.containsKey("delayLevel"))
            msg.setDelayTimeLevel(m.getIntValue("delayLevel"));
        JSONObject props = m.getJSONObject("props");
        if (props != null)
            for (String k : props.keySet())
                msg.putUserProperty(k, props.getString(k));
        return msg;
    }

    // ---- consumers ------------------------------------------------------------------------------

    private void startConsumer(JSONObject cmd, JSONObject reply) throws Exception {
        String id = cmd.getString("id");
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(cmd.getString("group"));
        configure(c, cmd);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.setMessageModel(MessageModel.valueOf(cmd.getString("model") == null ? "CLUSTERING" : cmd.getString("model")));
        c.setPersistConsumerOffsetInterval(500);
        if (cmd.containsKey("threads")) {  // 1: messages of a queue handled one by one, in order
            c.setConsumeThreadMin(cmd.getIntValue("threads"));
            c.setConsumeThreadMax(cmd.getIntValue("threads"));
        }
        if (cmd.containsKey("strategy"))
            c.setAllocateMessageQueueStrategy(strategy(cmd.getJSONObject("strategy")));
        if (cmd.containsKey("sql"))
            c.subscribe(cmd.getString("topic"), MessageSelector.bySql(cmd.getString("sql")));
        else
            c.subscribe(cmd.getString("topic"), cmd.getString("expr") == null ? "*" : cmd.getString("expr"));
        if (cmd.getBooleanValue("orderly")) {
            c.registerMessageListener((MessageListenerOrderly) (list, ctx) -> {
                list.forEach(m -> received(id, m));
                return ConsumeOrderlyStatus.SUCCESS;
            });
        } else {
            // "reject": "FIRST" answers RECONSUME_LATER to every first delivery (reconsumeTimes 0).
            boolean rejectFirst = "FIRST".equals(cmd.getString("reject"));
            c.registerMessageListener((MessageListenerConcurrently) (list, ctx) -> {
                list.forEach(m -> received(id, m));
                boolean reject = rejectFirst && list.stream().anyMatch(m -> m.getReconsumeTimes() == 0);
                return reject ? ConsumeConcurrentlyStatus.RECONSUME_LATER : ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
        }
        c.start();
        consumers.put(id, c);
        reply.put("clientId", c.buildMQClientId());
    }

    private static void received(String id, MessageExt m) {
        JSONObject ev = event("recv");
        ev.put("id", id);
        ev.put("thread", Thread.currentThread().getName());
        ev.put("msg", describe(m));
        emit(ev);
    }

    private DefaultMQPushConsumer consumer(JSONObject cmd) {
        DefaultMQPushConsumer c = consumers.get(cmd.getString("id"));
        if (c == null)
            throw new IllegalArgumentException("no consumer " + cmd.getString("id"));
        return c;
    }

    /** The queues the consumer's rebalance holds now (not dropped), in MessageQueue order. */
    private static JSONArray assignment(DefaultMQPushConsumer c) {
        List<MessageQueue> held = new ArrayList<>();
        Map<MessageQueue, ProcessQueue> table =
            c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable();
        for (Map.Entry<MessageQueue, ProcessQueue> e : table.entrySet())
            if (!e.getValue().isDropped())
                held.add(e.getKey());
        held.sort(null);
        return queues(held);
    }

    private void shutdown(String id) {
        DefaultMQProducer p = producers.remove(id);
        if (p != null)
            p.shutdown();
        DefaultMQPushConsumer c = consumers.remove(id);
        if (c != null)
            c.shutdown();
    }

    private void configure(ClientConfig c, JSONObject cmd) {
        c.setNamesrvAddr(namesrv);
        if (cmd.containsKey("instance"))
            c.setInstanceName(cmd.getString("instance"));
        if (cmd.containsKey("namespace"))
            c.setNamespace(cmd.getString("namespace"));
    }

    // ---- the client's algorithms on given inputs ---------------------------------------------------

    private static JSONArray allocate(JSONObject cmd) {
        List<MessageQueue> mqAll = toQueues(cmd.getJSONArray("mqAll"));
        List<String> cidAll = cmd.getJSONArray("cidAll").toJavaList(String.class);
        AllocateMessageQueueStrategy s = strategy(cmd.getJSONObject("strategy"));
        return queues(s.allocate(cmd.getString("group"), cmd.getString("cid"), mqAll, cidAll));
    }

    /**
     * A strategy by name. MACHINE_ROOM_NEARBY's resolver: a queue's room is brokerRooms[broker]
     * if given, else the broker name's part before '@'; a client's room is its instance name
     * (after the first '@' of the client id) up to the first '-'.
     */
    private static AllocateMessageQueueStrategy strategy(JSONObject s) {
        switch (s.getString("name")) {
            case "AVG": return new AllocateMessageQueueAveragely();
            case "AVG_BY_CIRCLE": return new AllocateMessageQueueAveragelyByCircle();
            case "CONSISTENT_HASH":
                return s.containsKey("virtualNodes")
                    ? new AllocateMessageQueueConsistentHash(s.getIntValue("virtualNodes"))
                    : new AllocateMessageQueueConsistentHash();
            case "CONFIG": {
                AllocateMessageQueueByConfig c = new AllocateMessageQueueByConfig();
                c.setMessageQueueList(toQueues(s.getJSONArray("queues")));
                return c;
            }
            case "MACHINE_ROOM": {
                AllocateMessageQueueByMachineRoom r = new AllocateMessageQueueByMachineRoom();
                r.setConsumeridcs(new HashSet<>(s.getJSONArray("idcs").toJavaList(String.class)));
                return r;
            }
            case "MACHINE_ROOM_NEARBY": {
                JSONObject rooms = s.getJSONObject("brokerRooms");
                return new AllocateMachineRoomNearby(strategy(s.getJSONObject("inner")),
                                                     new RoomResolver(rooms == null ? new JSONObject() : rooms));
            }
            default: throw new IllegalArgumentException("unknown strategy " + s.getString("name"));
        }
    }

    /** The MACHINE_ROOM_NEARBY resolver described at strategy(). */
    private static final class RoomResolver implements AllocateMachineRoomNearby.MachineRoomResolver {
        private final JSONObject brokerRooms;

        RoomResolver(JSONObject brokerRooms) {
            this.brokerRooms = brokerRooms;
        }

        @Override
        public String brokerDeployIn(MessageQueue mq) {
            String b = mq.getBrokerName();
            return brokerRooms.containsKey(b) ? brokerRooms.getString(b) : b.split("@")[0];
        }

        @Override
        public String consumerDeployIn(String cid) {
            String instance = cid.substring(cid.indexOf('@') + 1);
            return instance.split("-")[0];
        }
    }

    /** SelectMessageQueueByHash's choice for each key among n queues of one broker. */
    private static JSONArray selectByHash(JSONObject cmd) {
        List<MessageQueue> mqs = new ArrayList<>();
        for (int i = 0; i < cmd.getIntValue("n"); ++i)
            mqs.add(new MessageQueue("T", "b", i));
        JSONArray out = new JSONArray();
        SelectMessageQueueByHash selector = new SelectMessageQueueByHash();
        for (String key : cmd.getJSONArray("keys").toJavaList(String.class))
            out.add(selector.select(mqs, null, key).getQueueId());
        return out;
    }

    // ---- JSON ----------------------------------------------------------------------------------

    private static JSONObject event(String name) {
        JSONObject o = new JSONObject(true);
        o.put("ev", name);
        return o;
    }

    private static synchronized void emit(JSONObject o) {
        events.println(o.toJSONString());
    }

    private static List<MessageQueue> toQueues(JSONArray a) {
        List<MessageQueue> out = new ArrayList<>();
        for (Object o : a) {
            JSONObject q = (JSONObject) o;
            out.add(new MessageQueue(q.getString("topic"), q.getString("brokerName"), q.getIntValue("queueId")));
        }
        return out;
    }

    private static JSONArray queues(List<MessageQueue> list) {
        JSONArray out = new JSONArray();
        for (MessageQueue q : list)
            out.add(describe(q));
        return out;
    }

    private static JSONObject describe(MessageQueue q) {
        JSONObject o = new JSONObject(true);
        o.put("topic", q.getTopic());
        o.put("brokerName", q.getBrokerName());
        o.put("queueId", q.getQueueId());
        return o;
    }

    private static JSONObject describe(SendResult r) {
        JSONObject o = new JSONObject(true);
        o.put("status", r.getSendStatus().name());
        o.put("msgId", r.getMsgId());
        o.put("offsetMsgId", r.getOffsetMsgId());
        o.put("queue", describe(r.getMessageQueue()));
        o.put("queueOffset", r.getQueueOffset());
        o.put("transactionId", r.getTransactionId());
        o.put("regionId", r.getRegionId());
        o.put("traceOn", r.isTraceOn());
        return o;
    }

    /** Every field a message to send has (after the send: with what the client added). */
    private static JSONObject describe(Message m) {
        JSONObject o = new JSONObject(true);
        o.put("topic", m.getTopic());
        o.put("flag", m.getFlag());
        byte[] body = m.getBody();
        o.put("body", Base64.getEncoder().encodeToString(body));
        o.put("bodyLength", body.length);
        o.put("bodyCrc", UtilAll.crc32(body));
        o.put("tags", m.getTags());
        o.put("keys", m.getKeys());
        o.put("delayLevel", m.getDelayTimeLevel());
        o.put("transactionId", m.getTransactionId());
        o.put("props", new TreeMap<>(m.getProperties()));
        return o;
    }

    /** Every field of a stored message as the client presents it. */
    private static JSONObject describe(MessageExt m) {
        JSONObject o = describe((Message) m);
        o.put("queueId", m.getQueueId());
        o.put("queueOffset", m.getQueueOffset());
        o.put("msgId", m.getMsgId());
        if (m instanceof MessageClientExt)
            o.put("offsetMsgId", ((MessageClientExt) m).getOffsetMsgId());
        o.put("storedBodyCrc", m.getBodyCRC());
        o.put("sysFlag", m.getSysFlag());
        o.put("bornHost", host(m.getBornHost()));
        o.put("bornTimestamp", m.getBornTimestamp());
        o.put("storeHost", host(m.getStoreHost()));
        o.put("storeTimestamp", m.getStoreTimestamp());
        o.put("reconsumeTimes", m.getReconsumeTimes());
        o.put("preparedTransactionOffset", m.getPreparedTransactionOffset());
        o.put("commitLogOffset", m.getCommitLogOffset());
        o.put("storeSize", m.getStoreSize());
        o.put("brokerName", m.getBrokerName());
        return o;
    }

    private static String host(SocketAddress a) {
        if (a instanceof InetSocketAddress) {
            InetSocketAddress i = (InetSocketAddress) a;
            return i.getAddress().getHostAddress() + ":" + i.getPort();
        }
        return String.valueOf(a);
    }
}
